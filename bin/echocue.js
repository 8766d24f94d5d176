#!/usr/bin/env node
// `npx echocue ...` in a checkout: runs the TypeScript entry point on Node 24 (type stripping, no build step).
import '../src/cli/main.ts';
