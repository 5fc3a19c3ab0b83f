import { createRoot } from 'react-dom/client';

function App() {
  return (
    <main>
      <h1>Surveybridge admin</h1>
      <p>The console is under construction; use the API at <a href="/api/docs">/api/docs</a>.</p>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
