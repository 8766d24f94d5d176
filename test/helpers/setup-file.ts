// Runs in every test worker before the tests.
import { silenceKafkajsTimeoutWarning } from '../../src/events/kafka/index.ts';

silenceKafkajsTimeoutWarning();
