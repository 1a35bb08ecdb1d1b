// Entry of the supervisors' board page (served by `callpop hub --board-port`).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BoardApp } from './BoardApp';
import '../../src/styles/base.css';
import './board.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BoardApp />
  </StrictMode>,
);
