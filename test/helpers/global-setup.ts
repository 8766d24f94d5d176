// vitest globalSetup: start (or find) the services once, hand their addresses to every test file.
import { type TestProject } from 'vitest/node';
import { startServices, type Services } from './services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    services: Services;
  }
}

export default async function setup(project: TestProject) {
  const started = await startServices();
  project.provide('services', started.services);
  return async () => {
    await started.stop();
  };
}
