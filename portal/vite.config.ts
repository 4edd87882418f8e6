// The reference portal, built into portal/dist (at install) and served by the LA router at /portal.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/portal/',
  plugins: [react()],
  // React and Apollo Client in chunks of their own: they change less often than the portal.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, rollupOptions: { output: { manualChunks: { react: ['react', 'react-dom'], apollo: ['@apollo/client', '@apollo/persisted-query-lists'] } } } },
  logLevel: 'warn',
});
