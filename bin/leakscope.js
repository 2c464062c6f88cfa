#!/usr/bin/env node
// Entry point for `npm start`, `npm run leakscope` and the `leakscope` bin: loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../proxy/cli/main.ts');
