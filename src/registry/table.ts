// Server-side printing (meta.k8s.io/v1 Table): each resource names its columns
// and turns one object into one row of cells, as upstream's printers do.
import type { KubeObject } from '../api/object.js';

export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export interface TableConvertor {
  columns: ColumnDefinition[];
  /** One row's cells, in column order; `now` makes Age cells testable. */
  cells(obj: KubeObject, now: Date): unknown[];
}

export function column(name: string, type: ColumnDefinition['type'] = 'string', priority = 0, description = '', format = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}

/** The Name column upstream puts first in every table. */
export const nameColumn: ColumnDefinition = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};
