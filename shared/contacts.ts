// Contact import: CSV (Outlook, Google and simple exports; papaparse) and vCard 3/4 into name + numbers.
// Everything in an imported file is untrusted text.
import Papa from 'papaparse';

export interface Contact {
  name: string;
  numbers: string[];
  /** Company / organization, when the file has one (shown under the caller's name). */
  company?: string | undefined;
}

export const maxNameLength = 200;
const maxNumberLength = 64;
const maxNumbersPerContact = 32;

/** Trimmed, one line, no control or bidi-override characters, at most 200 characters. */
export function cleanName(text: string): string {
  const flat = text
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...flat];
  return chars.length > maxNameLength ? chars.slice(0, maxNameLength).join('').trim() : flat;
}

/** A phone number cell: trimmed, no control characters; null when it holds no number. */
function cleanNumber(text: string): string | null {
  const n = text.replace(/^tel:/i, '').replace(/[\p{Cc}\p{Cf}]+/gu, '').trim();
  const digits = n.replace(/\D/g, '').length;
  return digits >= 2 && n.length <= maxNumberLength ? n : null;
}

function contact(name: string, rawNumbers: readonly string[], company = ''): Contact | null {
  const numbers = [...new Set(rawNumbers.map(cleanNumber).filter((n): n is string => n !== null))].slice(0, maxNumbersPerContact);
  const cleaned = cleanName(name);
  const org = cleanName(company);
  if (numbers.length === 0 || cleaned === '') return null;
  // A company that is the name itself (the fallback below) says nothing more.
  return org !== '' && org !== cleaned ? { name: cleaned, numbers, company: org } : { name: cleaned, numbers };
}

/** Parses a contacts file; throws an Error with a one-line reason naming the file. */
export function parseContacts(text: string, fileName: string): Contact[] {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') throw new Error(`${fileName} is empty`);
  const isVCard = /\.(vcf|vcard)$/i.test(fileName) || /^\s*BEGIN:VCARD/i.test(body);
  const contacts = isVCard ? parseVCard(body, fileName) : parseCsv(body, fileName);
  if (contacts.length === 0) throw new Error(`No contacts with a name and a phone number found in ${fileName}`);
  return contacts;
}

// ---- CSV ----

const norm = (h: string): string => h.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
const fullNameHeaders = new Set(['name', 'full name', 'display name', 'displayname', 'fullname', 'contact', 'contact name', 'file as']);
const firstNameHeaders = new Set(['first name', 'given name', 'firstname', 'first']);
const middleNameHeaders = new Set(['middle name', 'additional name', 'middlename']);
const lastNameHeaders = new Set(['last name', 'family name', 'surname', 'lastname', 'last']);
const companyHeaders = new Set(['company', 'organization', 'organization 1 name', 'organization name']);
const phoneWords = /\b(phone|mobile|cell|cellphone|telephone|tel|number|work|gsm|msisdn)\b/;
const notPhone = /\b(type|label|fax|e ?mail|address|street|city|postal|zip|country|region|title|department|account|customer|order|vat|tax|id)\b/;

export function isPhoneHeader(header: string): boolean {
  const h = norm(header);
  return phoneWords.test(h) && !notPhone.test(h);
}

function parseCsv(text: string, fileName: string): Contact[] {
  const parsed = Papa.parse<string[]>(text, { skipEmptyLines: 'greedy' });
  const rows = parsed.data.filter((r) => Array.isArray(r));
  if (rows.length === 0) throw new Error(`No rows found in ${fileName}`);
  const header = rows[0]!.map(norm);
  const find = (names: Set<string>): number => header.findIndex((h) => names.has(h));
  const phones = rows[0]!.map((h, i) => (isPhoneHeader(h) ? i : -1)).filter((i) => i >= 0);
  if (phones.length === 0) throw new Error(`No phone column found in ${fileName} (expected a header such as "Phone", "Mobile Phone" or "Phone 1 - Value")`);
  const full = find(fullNameHeaders);
  const parts = [find(firstNameHeaders), find(middleNameHeaders), find(lastNameHeaders)].filter((i) => i >= 0);
  const company = find(companyHeaders);
  if (full < 0 && parts.length === 0 && company < 0) throw new Error(`No name column found in ${fileName} (expected a header such as "Name" or "First Name")`);
  const contacts: Contact[] = [];
  for (const row of rows.slice(1)) {
    const cell = (i: number): string => (i >= 0 ? (row[i] ?? '').trim() : '');
    const name = cell(full) || parts.map(cell).filter(Boolean).join(' ') || cell(company);
    // Google puts several numbers in one cell separated by " ::: ".
    const numbers = phones.flatMap((i) => cell(i).split(/\s*:::\s*/));
    const c = contact(name, numbers, cell(company));
    if (c) contacts.push(c);
  }
  return contacts;
}

// ---- vCard 3/4 (2.1 mostly works too) ----

/** Unescapes a vCard text value (\n, \, \; \\). */
const unescapeText = (v: string): string => v.replace(/\\([nN,;\\])/g, (_m, c: string) => (c === 'n' || c === 'N' ? ' ' : c));

/** Splits a structured value (N) on unescaped semicolons. */
function splitStructured(v: string): string[] {
  return v.split(/(?<!\\);/).map(unescapeText);
}

/** Decodes a vCard 2.1 QUOTED-PRINTABLE value ("=C3=87a=C4=9Fr=C4=B1" → "Çağrı"). */
function decodeQuotedPrintable(value: string, charset: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value.slice(i + 1, i + 3);
    if (value[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...new TextEncoder().encode(value[i]!));
  }
  try {
    return new TextDecoder(charset).decode(new Uint8Array(bytes));
  } catch {
    return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
  }
}

function parseVCard(text: string, fileName: string): Contact[] {
  // Unfold: a line break followed by a space or tab continues the previous line.
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n[ \t]/g, '').split('\n');
  const contacts: Contact[] = [];
  let cards = 0;
  let card: { fn: string; n: string; org: string; tel: string[] } | null = null;
  for (let li = 0; li < lines.length; li++) {
    let line = lines[li]!;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    // "item1.TEL;TYPE=CELL" → property TEL (group prefix dropped); parameters kept for the encoding.
    const [rawProp = '', ...params] = line.slice(0, colon).split(';');
    const prop = rawProp.replace(/^.*\./, '').toUpperCase();
    let value = line.slice(colon + 1);
    if (params.some((p) => /^(ENCODING=)?QUOTED-PRINTABLE$/i.test(p))) {
      // vCard 2.1 (Android exports): "=" at the end of a line continues the value on the next one.
      while (value.endsWith('=') && li + 1 < lines.length) {
        line = lines[++li]!;
        value = value.slice(0, -1) + line;
      }
      const charset = params.find((p) => /^CHARSET=/i.test(p))?.slice('CHARSET='.length);
      value = decodeQuotedPrintable(value, charset ?? 'utf-8');
    }
    if (prop === 'BEGIN' && value.trim().toUpperCase() === 'VCARD') {
      card = { fn: '', n: '', org: '', tel: [] };
      cards++;
    } else if (card && prop === 'END' && value.trim().toUpperCase() === 'VCARD') {
      const [family = '', given = '', additional = '', prefix = '', suffix = ''] = splitStructured(card.n);
      const fromN = [prefix, given, additional, family, suffix].filter((p) => p.trim() !== '').join(' ');
      // ORG is "Company;Department": the company is its first part.
      const c = contact(unescapeText(card.fn) || fromN, card.tel, splitStructured(card.org)[0] ?? '');
      if (c) contacts.push(c);
      card = null;
    } else if (card && prop === 'FN') card.fn = value;
    else if (card && prop === 'N') card.n = value;
    else if (card && prop === 'ORG') card.org = value;
    else if (card && prop === 'TEL') card.tel.push(value.replace(/;ext=.*$/i, ''));
  }
  if (cards === 0) throw new Error(`No contacts found in ${fileName} (no BEGIN:VCARD)`);
  return contacts;
}
