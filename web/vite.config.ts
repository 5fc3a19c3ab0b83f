import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Two pages built into web/dist and served by the API server: the admin console (/admin)
// and the respondent pages (/surveys/…). No inline scripts: the CSP forbids them.
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react()],
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    rollupOptions: { input: { admin: here('./admin.html'), survey: here('./survey.html') } },
  },
});
