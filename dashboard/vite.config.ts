import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
// The express server on 8081 serves the API and socket.io; `npx vite dashboard` proxies to it in development.
const backend = process.env.LEAKSCOPE_UI ?? 'http://127.0.0.1:8081';

// Defence in depth for hostile captured content: the built page allows only its own scripts.
// (Build only: the dev server's React refresh preamble is an inline script.)
const csp: Plugin = {
  name: 'leakscope-csp',
  apply: 'build',
  transformIndexHtml: () => [
    {
      tag: 'meta',
      attrs: {
        'http-equiv': 'Content-Security-Policy',
        content:
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
          "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'",
      },
      injectTo: 'head-prepend',
    },
  ],
};

export default defineConfig(({ command }) => {
  // What ships is the production React build, even when a test runner (NODE_ENV=test) triggers the build.
  if (command === 'build') process.env.NODE_ENV = 'production';
  return {
  root,
  base: '/',
  plugins: [react(), csp],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    proxy: {
      '/api': backend,
      '/setup': backend,
      '/socket.io': { target: backend, ws: true },
    },
  },
  };
});
