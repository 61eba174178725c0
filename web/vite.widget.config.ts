import { defineConfig } from 'vite';

// The buyer chat widget: one self-contained script (Preact, shadow DOM).
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2019',
    lib: { entry: 'src/widget/main.tsx', name: 'FerryWidget', formats: ['iife'], fileName: () => 'widget.js' },
  },
});
