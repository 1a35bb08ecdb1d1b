import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MainApp } from './window/MainApp';
import './styles/base.css';
import './styles/main.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MainApp />
  </StrictMode>,
);
