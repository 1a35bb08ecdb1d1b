// A message after a click that must not move anything (issue #20: a "Calling…" banner above the list
// pushed every row down, and the next click hit the row above). It floats over the window's bottom
// corner, lets clicks through (pointer-events: none) and goes by itself; a newer one replaces it.
import { useCallback, useEffect, useState } from 'react';

const SHOW_MS = 5000;
const SHOW_ERROR_MS = 10_000;

export interface ToastMessage {
  text: string;
  error: boolean;
}

export function useToast(): { toast: React.ReactNode; show: (text: string, error: boolean) => void } {
  const [msg, setMsg] = useState<(ToastMessage & { seq: number }) | null>(null);
  const show = useCallback((text: string, error: boolean) => setMsg((m) => ({ text, error, seq: (m?.seq ?? 0) + 1 })), []);
  useEffect(() => {
    if (!msg) return;
    const t = setTimeout(() => setMsg(null), msg.error ? SHOW_ERROR_MS : SHOW_MS);
    return () => clearTimeout(t);
  }, [msg]);
  const toast = (
    <div className="toast-region">
      {msg && (
        <p key={msg.seq} className={msg.error ? 'toast error' : 'toast'} role={msg.error ? 'alert' : 'status'}>
          {msg.text}
        </p>
      )}
    </div>
  );
  return { toast, show };
}
