import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanName, parseContacts } from '../../shared/contacts';
import { openContactsStore } from '../../main/core/contacts/store';

describe('parseContacts: CSV', () => {
  it('reads a simple export with quoted fields, a BOM and semicolons', () => {
    expect(parseContacts('\uFEFFName,Phone\n"Doe, Jane",0555 123 99 88\nNo Number,\n', 'contacts.csv')).toEqual([{ name: 'Doe, Jane', numbers: ['0555 123 99 88'] }]);
    expect(parseContacts('Display Name;Mobile;Work\nAli Veli;+90 555 111 22 33;0212 444 55 66\n', 'x.csv')).toEqual([
      { name: 'Ali Veli', numbers: ['+90 555 111 22 33', '0212 444 55 66'] },
    ]);
  });

  it('reads an Outlook export (first/middle/last name, many phone columns, fax ignored)', () => {
    const csv = [
      '"First Name","Middle Name","Last Name","E-mail Address","Home Phone","Business Phone","Mobile Phone","Business Fax","Company Main Phone","Company","Business Street"',
      '"Ayşe","","Yılmaz","ayse@example.com","","+90 212 555 00 11","0555 123 99 88","+90 212 555 00 12","","Acme","Büyükdere Cd. 1"',
      '"","","","","","+1 212 555 0100","","","","Acme Inc",""',
    ].join('\r\n');
    expect(parseContacts(csv, 'outlook.csv')).toEqual([
      { name: 'Ayşe Yılmaz', company: 'Acme', numbers: ['+90 212 555 00 11', '0555 123 99 88'] },
      { name: 'Acme Inc', numbers: ['+1 212 555 0100'] },
    ]);
  });

  it('reads a Google export (Phone N - Value columns, several numbers in one cell)', () => {
    const csv = [
      'Name,Given Name,Family Name,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value,E-mail 1 - Value',
      'Mehmet Öz,Mehmet,Öz,Mobile,+90 555 000 11 22 ::: +90 555 000 11 23,Work,0212 123 45 67,m@example.com',
      ',Zeynep,Kaya,Mobile,0532 765 43 21,,,',
    ].join('\n');
    expect(parseContacts(csv, 'google.csv')).toEqual([
      { name: 'Mehmet Öz', numbers: ['+90 555 000 11 22', '+90 555 000 11 23', '0212 123 45 67'] },
      { name: 'Zeynep Kaya', numbers: ['0532 765 43 21'] },
    ]);
  });

  it('explains what is missing', () => {
    expect(() => parseContacts('Name,Email\nJane,j@example.com\n', 'contacts.csv')).toThrow('No phone column found in contacts.csv');
    expect(() => parseContacts('Phone,Email\n0555,j@example.com\n', 'contacts.csv')).toThrow('No name column found in contacts.csv');
    expect(() => parseContacts('  \n', 'contacts.csv')).toThrow('contacts.csv is empty');
    expect(() => parseContacts('Name,Phone\nJane,\n', 'contacts.csv')).toThrow('No contacts with a name and a phone number found in contacts.csv');
  });
});

describe('parseContacts: vCard', () => {
  it('reads vCard 3 with folded lines, several TEL and escaped text', () => {
    const vcf = [
      'BEGIN:VCARD',
      'VERSION:3.0',
      'N:Yılmaz;Ayşe;;;',
      'FN:Ayşe Yılmaz\\, Sales',
      'TEL;TYPE=CELL:0555 123',
      '  99 88',
      'item1.TEL;TYPE=WORK,VOICE:+90 212 555 00 11',
      'EMAIL:ayse@example.com',
      'END:VCARD',
      'BEGIN:VCARD',
      'VERSION:3.0',
      'N:Kaya;Zeynep;;Dr.;',
      'TEL:0532 765 43 21',
      'END:VCARD',
    ].join('\r\n');
    expect(parseContacts(vcf, 'contacts.vcf')).toEqual([
      { name: 'Ayşe Yılmaz, Sales', numbers: ['0555 123 99 88', '+90 212 555 00 11'] },
      { name: 'Dr. Zeynep Kaya', numbers: ['0532 765 43 21'] },
    ]);
  });

  it('reads vCard 4 tel: URIs and skips cards without a number', () => {
    const vcf = 'BEGIN:VCARD\nVERSION:4.0\nFN:John Smith\nTEL;VALUE=uri;TYPE="voice,cell":tel:+1-212-555-0100;ext=22\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nFN:No Phone\nEND:VCARD\n';
    expect(parseContacts(vcf, 'c.vcf')).toEqual([{ name: 'John Smith', numbers: ['+1-212-555-0100'] }]);
    expect(() => parseContacts('hello', 'c.vcf')).toThrow('No contacts found in c.vcf');
  });
});

describe('parseContacts: vCard 2.1 (Android exports)', () => {
  it('decodes QUOTED-PRINTABLE names, with soft line breaks, and leaves base64 photos alone', () => {
    const vcf = [
      'BEGIN:VCARD',
      'VERSION:2.1',
      'N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=87el=C4=B1k;=C3=87a=C4=9Fr=C4=B1;;;',
      'FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=87a=C4=9Fr=C4=B1 =C3=87el=',
      '=C4=B1k',
      'PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQ==',
      'TEL;CELL:0555 123 99 88',
      'END:VCARD',
    ].join('\r\n');
    expect(parseContacts(vcf, 'contacts.vcf')).toEqual([{ name: 'Çağrı Çelık', numbers: ['0555 123 99 88'] }]);
  });
});

describe('cleanName', () => {
  it('strips control and bidi characters, collapses space, caps length', () => {
    expect(cleanName('  Jane\u0000\u0007 \u202EDoe\r\n ')).toBe('Jane Doe');
    expect([...cleanName('ş'.repeat(500))]).toHaveLength(200);
  });
});

describe('contacts store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callpop-contacts-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports, looks numbers up in any format, searches names and persists atomically', async () => {
    const store = await openContactsStore(dir, { defaultCountry: 'TR' });
    expect(store.lookup('05551239988')).toBeNull();
    const csv = 'Name,Mobile\nAyşe Yılmaz,+90 555 123 99 88\nIşık Çelik,0212 444 55 66\nReception,204\n';
    expect(await store.import(csv, 'contacts.csv')).toEqual({ imported: 3, total: 3 });
    for (const n of ['0555 123 99 88', '05551239988', '00905551239988', '+905551239988']) expect(store.lookup(n), n).toBe('Ayşe Yılmaz');
    expect(store.lookup('204')).toBe('Reception');
    expect(store.lookup('2045')).toBeNull();
    expect(store.lookup('0555 123 99 87')).toBeNull();
    expect(store.numbersMatchingName('ayse')).toEqual(['+90 555 123 99 88']);
    expect(store.numbersMatchingName('ISIK')).toEqual(['0212 444 55 66']);
    expect(store.numbersMatchingName('zzz')).toEqual([]);
    expect(await readdir(dir)).toEqual(['contacts.json']);

    // Re-importing replaces contacts of the same name and keeps the others.
    expect(await store.import('BEGIN:VCARD\nFN:Ayşe Yılmaz\nTEL:0555 000 00 00\nEND:VCARD\n', 'new.vcf')).toEqual({ imported: 1, total: 3 });
    expect(store.lookup('0555 123 99 88')).toBeNull();
    expect(store.lookup('0555 000 00 00')).toBe('Ayşe Yılmaz');

    const again = await openContactsStore(dir, { defaultCountry: 'TR' });
    expect(again.size).toBe(3);
    expect(again.lookup('+90 555 000 00 00')).toBe('Ayşe Yılmaz');
    await again.clear();
    expect(again.size).toBe(0);
    expect((await openContactsStore(dir)).size).toBe(0);
  });

  it('runs overlapping imports one after the other (neither is lost)', async () => {
    const store = await openContactsStore(dir, { defaultCountry: 'TR' });
    const results = await Promise.all([
      store.import('Name,Mobile\nAyşe,0555 123 99 88\n', 'a.csv'),
      store.import('Name,Mobile\nBora,0555 000 11 22\n', 'b.csv'),
      store.import('Name,Mobile\nCem,0555 333 44 55\n', 'c.csv'),
    ]);
    expect(results.map((r) => r.total)).toEqual([1, 2, 3]);
    expect(store.all().map((c) => c.name)).toEqual(['Ayşe', 'Bora', 'Cem']);
    expect((await openContactsStore(dir, { defaultCountry: 'TR' })).all().map((c) => c.name)).toEqual(['Ayşe', 'Bora', 'Cem']);
  });

  it('keeps the current contacts when an import fails', async () => {
    const store = await openContactsStore(dir, { defaultCountry: 'TR' });
    await store.import('Name,Phone\nJane,0555 123 99 88\n', 'a.csv');
    await expect(store.import('Name,Email\nJoe,j@example.com\n', 'b.csv')).rejects.toThrow('No phone column found in b.csv');
    expect(store.lookup('05551239988')).toBe('Jane');
  });

  it('starts empty (and says so) when contacts.json is damaged', async () => {
    await writeFile(join(dir, 'contacts.json'), '{"version":1,"contacts":[{"name":');
    const warnings: string[] = [];
    const store = await openContactsStore(dir, { logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} } });
    expect(store.size).toBe(0);
    expect(warnings.join()).toMatch(/contacts\.json/);
    await store.import('Name,Phone\nJane,0555 123 99 88\n', 'a.csv');
    expect(JSON.parse(await readFile(join(dir, 'contacts.json'), 'utf8')).contacts).toEqual([{ name: 'Jane', numbers: ['0555 123 99 88'] }]);
  });
});
