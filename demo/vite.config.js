import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// Built into build/demo (gitignored); nginx serves it from there.
// DEMO_OUT overrides the directory.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: process.env.DEMO_OUT || fileURLToPath(new URL('../build/demo', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
});
