import type { ConfigProblem } from './load.js';
import { MAX_LABELLED_REGISTERS, type RegisterLabelsSchema } from './schema.js';

/*
 * `register_labels_file`: static labels for the registers of a source, by the identity that becomes
 * each register's `kkt` label, from a CSV (identity column first, then one column per label) or a
 * YAML mapping (identity -> {label: value}). The YAML side is read in load.ts, with the config's
 * own YAML machinery; this file has the CSV side and what both give.
 */

/** A register's labels when nothing gives it any: one object, shared. */
export const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The labels a `register_labels_file` gives, each register's made once per load (per config
 * generation): a scrape only looks its registers up. Debug output shows how many, not the list.
 */
export class RegisterLabels {
  private readonly byKkt: ReadonlyMap<string, Readonly<Record<string, string>>>;

  /** From the file's data; an empty value is no label (as Prometheus reads an empty label). */
  constructor(data: Record<string, Record<string, string>>) {
    this.byKkt = new Map(Object.entries(data).map(([kkt, labels]) => [kkt, Object.freeze(Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== '')))]));
  }

  /** The labels of register `kkt`; none when the file does not name it. */
  of(kkt: string): Readonly<Record<string, string>> {
    return this.byKkt.get(kkt) ?? NO_LABELS;
  }

  get size(): number {
    return this.byKkt.size;
  }

  toJSON(): string {
    return `${this.size} registers`;
  }
}

/** A CSV text that is not one: a quote left open, text after a closing quote, too many rows. */
class CsvSyntaxError extends Error {
  constructor(readonly problem: ConfigProblem) {
    super(problem.message);
  }
}

/** One CSV field as written, with where it starts. */
interface CsvCell {
  text: string;
  line: number;
  col: number;
}

/** A spreadsheet in a Russian (or most European) locale saves CSV with `;`: a header with `;` and no `,` is read so. */
function delimiterOf(text: string): string {
  const header = text.slice(0, text.search(/\r?\n|$/));
  return header.includes(';') && !header.includes(',') ? ';' : ',';
}

/**
 * The rows of a CSV text (RFC 4180: `"` quotes a field, `""` is a quote in it, a quoted field may
 * hold the delimiter or a line break), blank lines left out; at most `maxRows`. Throws a problem
 * for a malformed quote or a row past `maxRows`.
 */
function csvRows(file: string, text: string, maxRows: number): CsvCell[][] {
  const delimiter = delimiterOf(text);
  const rows: CsvCell[][] = [];
  let row: CsvCell[] = [];
  let line = 1;
  // A byte order mark (a spreadsheet's "CSV UTF-8") is no part of the first field.
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineStart = i;
  const problem = (at: number, message: string, atLine = line, atLineStart = lineStart) => new CsvSyntaxError({ file, line: atLine, col: at - atLineStart + 1, message });
  const endRow = () => {
    if (!(row.length === 1 && row[0]?.text === '')) rows.push(row);
    if (rows.length > maxRows) throw problem(lineStart, `the file has more than ${maxRows - 1} rows after the header`);
    row = [];
  };
  for (;;) {
    const start = i;
    const cell: CsvCell = { text: '', line, col: i - lineStart + 1 };
    if (text[i] === '"') {
      const openLine = line;
      const openLineStart = lineStart;
      let value = '';
      for (i++; ; i++) {
        if (i >= text.length) throw problem(start, 'unterminated quoted field', openLine, openLineStart);
        if (text[i] === '"' && text[i + 1] === '"') (value += '"'), i++;
        else if (text[i] === '"') break;
        else {
          if (text[i] === '\n') (line++, (lineStart = i + 1));
          value += text[i];
        }
      }
      i++;
      cell.text = value.replace(/\r\n/g, '\n');
      if (i < text.length && text[i] !== delimiter && text[i] !== '\n' && text[i] !== '\r') throw problem(i, 'text after a closing quote: quote the whole field, and write a quote in it as ""');
    } else {
      while (i < text.length && text[i] !== delimiter && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) i++;
      cell.text = text.slice(start, i);
    }
    row.push(cell);
    if (i >= text.length) {
      endRow();
      return rows;
    }
    if (text[i] === delimiter) {
      i++;
      continue;
    }
    i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
    endRow();
    line++;
    lineStart = i;
    if (i >= text.length) return rows;
  }
}

/**
 * The data of a CSV `register_labels_file`, checked by `schema`, or the problems found, each at
 * its row and column. The first column is the register's identity, named one of `identityColumns`.
 */
export function csvRegisterLabels(
  file: string,
  text: string,
  identityColumns: readonly string[],
  what: string,
  schema: RegisterLabelsSchema,
): { ok: true; data: Record<string, Record<string, string>> } | { ok: false; problems: ConfigProblem[] } {
  let rows: CsvCell[][];
  try {
    rows = csvRows(file, text, MAX_LABELLED_REGISTERS + 1);
  } catch (err) {
    if (err instanceof CsvSyntaxError) return { ok: false, problems: [err.problem] };
    throw err;
  }
  const at = (cell: CsvCell, message: string): ConfigProblem => ({ file, line: cell.line, col: cell.col, message });
  const [header, ...body] = rows;
  const names = identityColumns.map((c) => `"${c}"`).join(' or ');
  if (!header) return { ok: false, problems: [{ file, line: 1, col: 1, message: `the file is empty: its first row must name the columns, ${names} first` }] };
  const [idColumn, ...labelColumns] = header as [CsvCell, ...CsvCell[]];
  if (!identityColumns.includes(idColumn.text)) {
    return { ok: false, problems: [at(idColumn, `the first column must be ${names} (the kkt label of a register of ${what}), not "${idColumn.text}"`)] };
  }
  const headerProblems = columnProblems(labelColumns, schema, at);
  if (headerProblems.length > 0) return { ok: false, problems: headerProblems };

  const problems: ConfigProblem[] = [];
  const data: Record<string, Record<string, string>> = {};
  const rowOf = new Map<string, CsvCell[]>();
  for (const cells of body) {
    const id = cells[0] as CsvCell;
    if (cells.length !== header.length) {
      const cell = cells[Math.min(header.length, cells.length - 1)] as CsvCell;
      problems.push(at(cell, `row has ${cells.length} fields, the header ${header.length}`));
      continue;
    }
    const first = rowOf.get(id.text);
    if (first) {
      problems.push(at(id, `register "${id.text}" is listed twice (first at line ${first[0]?.line})`));
      continue;
    }
    rowOf.set(id.text, cells);
    data[id.text] = Object.fromEntries(labelColumns.map((c, j) => [c.text, (cells[j + 1] as CsvCell).text]));
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => at(cellOf(issue.path, rowOf, labelColumns) ?? idColumn, issue.message)));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, data: parsed.data as Record<string, Record<string, string>> };
}

/**
 * The header's problems: a label column named twice, or named so the schema refuses it (its
 * syntax, or a name the exporter sets), each at its column.
 */
function columnProblems(columns: CsvCell[], schema: RegisterLabelsSchema, at: (cell: CsvCell, message: string) => ConfigProblem): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const byName = new Map<string, CsvCell>();
  for (const c of columns) {
    const first = byName.get(c.text);
    if (first) problems.push(at(c, `column "${c.text}" is named twice (first at column ${first.col})`));
    else byName.set(c.text, c);
  }
  // One register of sample values: what the schema says of it is said of the columns.
  const sample = schema.safeParse({ header: Object.fromEntries([...byName.keys()].map((name) => [name, 'x'])) });
  if (!sample.success) {
    for (const issue of sample.error.issues) {
      const cell = byName.get(String(issue.path[1])) ?? columns[0];
      if (cell) problems.push(at(cell, issue.message));
    }
  }
  return problems;
}

/** The cell a schema issue of the rows' data is about: a register's value, else its id; undefined for the whole file. */
function cellOf(path: readonly PropertyKey[], rowOf: ReadonlyMap<string, CsvCell[]>, columns: CsvCell[]): CsvCell | undefined {
  const cells = path[0] === undefined ? undefined : rowOf.get(String(path[0]));
  const column = columns.findIndex((c) => c.text === String(path[1]));
  return cells?.[column + 1] ?? cells?.[0];
}
