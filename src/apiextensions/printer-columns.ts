// Server-side printing of custom objects: the version's
// additionalPrinterColumns (or Age when it has none) after Name, as
// upstream's CRD table convertor. A column's cell is its JSONPath's first
// result (empty when there is none, or of another type than the column's);
// date cells are printed as ages, as upstream's table convertor does.
import type { KubeObject } from '../api/object.js';
import { column, nameColumn, type ColumnDefinition, type TableConvertor } from '../registry/table.js';
import { ageColumn, timestampSince } from '../registry/table-format.js';
import { findResults } from './jsonpath.js';
import type { PrinterColumn } from './types.js';

const defaultColumns: PrinterColumn[] = [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];

/** A cell as upstream's cellForJSONValue makes it: the column's type or nothing; strings print any value. */
function cell(col: PrinterColumn, obj: KubeObject, now: Date): unknown {
  const results = findResults(obj, col.jsonPath);
  if (!results.length || results[0] === undefined || results[0] === null) return null;
  const value = results[0];
  switch (col.type) {
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      if (typeof value !== 'string') return null;
      return Number.isNaN(Date.parse(value)) ? '<invalid>' : timestampSince(value, now);
    default:
      return null;
  }
}

export function printerColumnsTable(columns: PrinterColumn[] | undefined): TableConvertor {
  const cols = columns?.length ? columns : defaultColumns;
  const definitions: ColumnDefinition[] = [
    nameColumn,
    ...cols.map((c) =>
      c === defaultColumns[0] ? ageColumn : column(c.name, c.type as ColumnDefinition['type'], c.priority ?? 0, c.description ?? '', c.format ?? ''),
    ),
  ];
  return {
    columns: definitions,
    cells: (obj, now) => [obj.metadata.name, ...cols.map((c) => cell(c, obj, now))],
  };
}
