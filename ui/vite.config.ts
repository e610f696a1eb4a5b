import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

export default defineConfig({
  // Tauri serves dist/ from its own custom protocol, so asset URLs must be relative.
  base: './',
  plugins: [svelte(), svelteTesting()],
  // Keep the Rust side's compile errors visible when run through `tauri dev`.
  clearScreen: false,
  // Must match build.devUrl in tauri.conf.json; fail loudly rather than drift to another port.
  server: { port: 5173, strictPort: true },
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // data: URIs for fonts or scripts would fall foul of the CSP; emit real files.
    assetsInlineLimit: 0,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    // Lets contrast.test.ts read the theme tokens; other CSS stays stubbed out in tests.
    css: { include: [/app\.css/] },
  },
});
