// Imported first by main.tsx, before any schema is built: the page's CSP forbids eval, and zod probes for it
// (a probe the browser logs as a CSP violation) unless told to stay jitless.
import { config } from 'zod';

config({ jitless: true });
