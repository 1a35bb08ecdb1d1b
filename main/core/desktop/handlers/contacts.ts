// The "contacts:" channels: import a contacts file's text, add one, clear them, count them.
import type { CoreContext, HandlersOf } from './context';

export function contactHandlers(ctx: CoreContext): HandlersOf<'contacts'> {
  const { contacts, logChanged } = ctx;
  return {
    'contacts:importText': async ({ text, fileName }) => {
      try {
        const r = await contacts.import(text, fileName);
        return { ok: true, imported: r.imported, total: r.total };
      } catch (e) {
        return { ok: false, canceled: false, error: (e as Error).message };
      }
    },
    'contacts:clear': () => contacts.clear(),
    'contacts:summary': () => ({ count: contacts.size }),
    'contacts:add': async ({ name, number, company }) => {
      try {
        await contacts.add(name, number, company);
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
      logChanged();
      return { ok: true };
    },
  };
}
