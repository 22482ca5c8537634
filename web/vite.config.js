import { defineConfig } from 'vite';

// Assets are embedded into segtool (tools/serve/embed_assets.cmake) and
// served from the server's root.
export default defineConfig({
  base: '/',
  build: { target: 'es2020', sourcemap: false, chunkSizeWarningLimit: 1000 },
  test: { include: ['test/**/*.test.ts'] },
});
