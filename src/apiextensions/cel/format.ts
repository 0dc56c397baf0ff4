// The Kubernetes format library: format.dns1123Label() and its siblings,
// format.named(name), and Format.validate(s), which is optional.none() for
// a valid string and the validation messages otherwise.
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../../registry/validation/names.js';
import { checkFormat } from '../formats.js';
import { define, global, member } from './functions.js';
import { T } from './types.js';
import { Opaque, Optional, type CelValue } from './values.js';

export class FormatValue extends Opaque {
  readonly typeName = 'kubernetes.NamedFormat';
  constructor(
    readonly name: string,
    readonly validate: (s: string) => string[],
  ) {
    super();
  }
  equals(o: Opaque): boolean {
    return o instanceof FormatValue && o.name === this.name;
  }
}

/** NameIsDNS*(s, prefix): a generateName prefix may end in "-". */
const asPrefix = (f: (s: string) => string[]) => (s: string) => f(s.endsWith('-') ? `${s.slice(0, -1)}a` : s);
const strfmt = (format: string, message: string) => (s: string) => (checkFormat(format, s) ? [] : [message]);
const formats: Record<string, FormatValue> = {
  dns1123Label: new FormatValue('DNS1123Label', isDNS1123Label),
  dns1123Subdomain: new FormatValue('DNS1123Subdomain', isDNS1123Subdomain),
  dns1035Label: new FormatValue('DNS1035Label', isDNS1035Label),
  qualifiedName: new FormatValue('QualifiedName', isQualifiedName),
  dns1123LabelPrefix: new FormatValue('DNS1123LabelPrefix', asPrefix(isDNS1123Label)),
  dns1123SubdomainPrefix: new FormatValue('DNS1123SubdomainPrefix', asPrefix(isDNS1123Subdomain)),
  dns1035LabelPrefix: new FormatValue('DNS1035LabelPrefix', asPrefix(isDNS1035Label)),
  labelValue: new FormatValue('LabelValue', isValidLabelValue),
  uri: new FormatValue('URI', (s) => (/^([a-zA-Z][a-zA-Z0-9+.-]*:|\/)\S*$/.test(s) ? [] : [`parse ${JSON.stringify(s)}: invalid URI for request`])),
  uuid: new FormatValue('uuid', strfmt('uuid', 'does not match the UUID format')),
  byte: new FormatValue('byte', strfmt('byte', 'invalid base64')),
  date: new FormatValue('date', strfmt('date', 'invalid date')),
  datetime: new FormatValue('datetime', strfmt('date-time', 'invalid datetime')),
};

const F = T.opaque('kubernetes.NamedFormat');
for (const [name, f] of Object.entries(formats)) define(`format.${name}`, global(`format.${name}`, [], F, () => f));
define('format.named', global('format-named', [T.string], T.optional(F), (n) => new Optional(Object.hasOwn(formats, n as string) ? formats[n as string] : undefined)));
define(
  'validate',
  member('format-validate', [F, T.string], T.optional(T.list(T.string)), (f, s) => {
    const errs = (f as FormatValue).validate(s as string);
    return new Optional(errs.length ? (errs as CelValue[]) : undefined);
  }),
);
