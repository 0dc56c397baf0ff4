// Generates src/apiserver/openapi/schemas.json: the OpenAPI v3 component
// schemas of the kinds kubesvc serves, named and shaped as kube-apiserver
// publishes them, so that `kubectl explain`, client-side apply and our own
// strict field validation see what they would see on a real cluster.
//
// The source is kubernetes-types' .d.ts (read with the TypeScript compiler
// API): every interface there carries upstream's descriptions as JSDoc and
// marks optional fields. What those files lost on the way from upstream's
// OpenAPI (integer formats, "Possible enum values", strategic-merge-patch
// metadata, list/map topology for server-side apply) is restored from the tables at the end of this file.
//
// Run: npx tsx scripts/gen-openapi.ts   (or npm run gen:openapi)
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

type Schema = Record<string, unknown>;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const typesDir = dirname(createRequire(import.meta.url).resolve('kubernetes-types/package.json'));
const outFile = join(root, 'src/apiserver/openapi/schemas.json');

/** kubernetes-types file → upstream Go package prefix of its schema names. */
const PACKAGES: Record<string, string> = {
  'core/v1.d.ts': 'io.k8s.api.core.v1',
  'apps/v1.d.ts': 'io.k8s.api.apps.v1',
  'discovery/v1.d.ts': 'io.k8s.api.discovery.v1',
  'autoscaling/v1.d.ts': 'io.k8s.api.autoscaling.v1',
  'batch/v1.d.ts': 'io.k8s.api.batch.v1',
  'policy/v1.d.ts': 'io.k8s.api.policy.v1',
  'coordination/v1.d.ts': 'io.k8s.api.coordination.v1',
  'certificates/v1.d.ts': 'io.k8s.api.certificates.v1',
  'rbac/v1.d.ts': 'io.k8s.api.rbac.v1',
  'authorization/v1.d.ts': 'io.k8s.api.authorization.v1',
  'authentication/v1.d.ts': 'io.k8s.api.authentication.v1',
  'apiextensions/v1.d.ts': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1',
  'meta/v1.d.ts': 'io.k8s.apimachinery.pkg.apis.meta.v1',
  'api/resource.d.ts': 'io.k8s.apimachinery.pkg.api.resource',
  'runtime.d.ts': 'io.k8s.apimachinery.pkg.runtime',
};

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** The group-versions kubesvc serves; DeleteOptions is registered in each. */
const SERVED_GROUP_VERSIONS = [
  { group: '', version: 'v1' },
  { group: 'apps', version: 'v1' },
  { group: 'autoscaling', version: 'v1' },
  { group: 'batch', version: 'v1' },
  { group: 'policy', version: 'v1' },
  { group: 'coordination.k8s.io', version: 'v1' },
  { group: 'certificates.k8s.io', version: 'v1' },
  { group: 'discovery.k8s.io', version: 'v1' },
  { group: 'rbac.authorization.k8s.io', version: 'v1' },
  { group: 'authorization.k8s.io', version: 'v1' },
  { group: 'authentication.k8s.io', version: 'v1' },
  { group: 'apiextensions.k8s.io', version: 'v1' },
];

/** Served kinds, their lists, and the helper kinds their operations use. */
const ROOTS = [
  ...['Namespace', 'Service', 'Endpoints', 'Pod', 'Node', 'Event', 'ConfigMap', 'Secret', 'ServiceAccount'].flatMap((k) => [
    `io.k8s.api.core.v1.${k}`,
    `io.k8s.api.core.v1.${k}List`,
  ]),
  'io.k8s.api.core.v1.Binding',
  ...['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'ControllerRevision'].flatMap((k) => [`io.k8s.api.apps.v1.${k}`, `io.k8s.api.apps.v1.${k}List`]),
  'io.k8s.api.autoscaling.v1.Scale',
  ...['Job', 'CronJob'].flatMap((k) => [`io.k8s.api.batch.v1.${k}`, `io.k8s.api.batch.v1.${k}List`]),
  'io.k8s.api.policy.v1.PodDisruptionBudget',
  'io.k8s.api.policy.v1.PodDisruptionBudgetList',
  'io.k8s.api.policy.v1.Eviction',
  'io.k8s.api.coordination.v1.Lease',
  'io.k8s.api.coordination.v1.LeaseList',
  'io.k8s.api.certificates.v1.CertificateSigningRequest',
  'io.k8s.api.certificates.v1.CertificateSigningRequestList',
  'io.k8s.api.discovery.v1.EndpointSlice',
  'io.k8s.api.discovery.v1.EndpointSliceList',
  ...['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].flatMap((k) => [`io.k8s.api.rbac.v1.${k}`, `io.k8s.api.rbac.v1.${k}List`]),
  // Create-only reviews: their schemas, no lists.
  ...['SubjectAccessReview', 'SelfSubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview'].map((k) => `io.k8s.api.authorization.v1.${k}`),
  ...['TokenReview', 'SelfSubjectReview', 'TokenRequest'].map((k) => `io.k8s.api.authentication.v1.${k}`),
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionList',
  // Referenced only from JSONSchemaProps' x-kubernetes-validations, which kubernetes-types leaves out.
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule',
  `${META}.Status`,
  `${META}.DeleteOptions`,
  `${META}.Patch`,
];

/**
 * Kinds whose .d.ts gives no literal apiVersion/kind because upstream
 * registers them in many groups; we list the registrations we serve.
 */
const EXTRA_GVKS: Record<string, { group: string; version: string; kind: string }[]> = {
  [`${META}.Status`]: [{ group: '', version: 'v1', kind: 'Status' }],
  [`${META}.DeleteOptions`]: SERVED_GROUP_VERSIONS.map((gv) => ({ ...gv, kind: 'DeleteOptions' })),
};

const APIEXTENSIONS = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';

/**
 * Properties kubernetes-types leaves out: the x-kubernetes-* fields of
 * JSONSchemaProps (their names are not identifiers), with upstream's
 * descriptions.
 */
const EXTRA_PROPERTIES: Record<string, Record<string, Schema>> = {
  [`${APIEXTENSIONS}.JSONSchemaProps`]: {
    'x-kubernetes-embedded-resource': {
      description:
        'x-kubernetes-embedded-resource defines that the value is an embedded Kubernetes runtime.Object, with TypeMeta and ObjectMeta. The type must be object. It is allowed to further restrict the embedded object. kind, apiVersion and metadata are validated automatically. x-kubernetes-preserve-unknown-fields is allowed to be true, but does not have to be if the object is fully specified (up to kind, apiVersion, metadata).',
      type: 'boolean',
    },
    'x-kubernetes-int-or-string': {
      description:
        'x-kubernetes-int-or-string specifies that this value is either an integer or a string. If this is true, an empty type is allowed and type as child of anyOf is permitted if following one of the following patterns:\n\n1) anyOf:\n   - type: integer\n   - type: string\n2) allOf:\n   - anyOf:\n     - type: integer\n     - type: string\n   - ... zero or more',
      type: 'boolean',
    },
    'x-kubernetes-list-map-keys': {
      description:
        'x-kubernetes-list-map-keys annotates an array with the x-kubernetes-list-type `map` by specifying the keys used as the index of the map.\n\nThis tag MUST only be used on lists that have the "x-kubernetes-list-type" extension set to "map". Also, the values specified for this attribute must be a scalar typed field of the child structure (no nesting is supported).\n\nThe properties specified must either be required or have a default value, to ensure those properties are present for all list items.',
      items: { default: '', type: 'string' },
      type: 'array',
      'x-kubernetes-list-type': 'atomic',
    },
    'x-kubernetes-list-type': {
      description:
        'x-kubernetes-list-type annotates an array to further describe its topology. This extension must only be used on lists and may have 3 possible values:\n\n1) `atomic`: the list is treated as a single entity, like a scalar.\n     Atomic lists will be entirely replaced when updated. This extension\n     may be used on any type of list (struct, scalar, ...).\n2) `set`:\n     Sets are lists that must not have multiple items with the same value. Each\n     value must be a scalar, an object with x-kubernetes-map-type `atomic` or an\n     array with x-kubernetes-list-type `atomic`.\n3) `map`:\n     These lists are like maps in that their elements have a non-index key\n     used to identify them. Order is preserved upon merge. The map tag\n     must only be used on a list with elements of type object.\nDefaults to atomic for arrays.',
      type: 'string',
    },
    'x-kubernetes-map-type': {
      description:
        'x-kubernetes-map-type annotates an object to further describe its topology. This extension must only be used when type is object and may have 2 possible values:\n\n1) `granular`:\n     These maps are actual maps (key-value pairs) and each fields are independent\n     from each other (they can each be manipulated by separate actors). This is\n     the default behaviour for all maps.\n2) `atomic`: the list is treated as a single entity, like a scalar.\n     Atomic maps will be entirely replaced when updated.',
      type: 'string',
    },
    'x-kubernetes-preserve-unknown-fields': {
      description:
        'x-kubernetes-preserve-unknown-fields stops the API server decoding step from pruning fields which are not specified in the validation schema. This affects fields recursively, but switches back to normal pruning behaviour if nested properties or additionalProperties are specified in the schema. This can either be true or undefined. False is forbidden.',
      type: 'boolean',
    },
    'x-kubernetes-validations': {
      description: 'x-kubernetes-validations describes a list of validation rules written in the CEL expression language.',
      items: { allOf: [{ $ref: `#/components/schemas/${APIEXTENSIONS}.ValidationRule` }], default: {} },
      type: 'array',
      'x-kubernetes-list-map-keys': ['rule'],
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-patch-merge-key': 'rule',
      'x-kubernetes-patch-strategy': 'merge',
    },
  },
};

/** Types whose JSON form is not their Go struct; shapes as upstream's v3. */
const CUSTOM_SCHEMAS: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
  [`${META}.Time`]: { type: 'string', format: 'date-time' },
  [`${META}.MicroTime`]: { type: 'string', format: 'date-time' },
  // Any JSON, and the schema-or-something unions of JSONSchemaProps: upstream publishes them with no type.
  ...Object.fromEntries(
    ['JSON', 'JSONSchemaPropsOrArray', 'JSONSchemaPropsOrBool', 'JSONSchemaPropsOrStringArray'].map((t) => [
      `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.${t}`,
      {},
    ]),
  ),
  [INT_OR_STRING]: {
    description:
      'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
  },
};

interface Decl {
  name: string;
  node: ts.InterfaceDeclaration | ts.TypeAliasDeclaration;
}

function createChecker() {
  const files = Object.keys(PACKAGES).map((f) => join(typesDir, f));
  const program = ts.createProgram(files, { noEmit: true, skipLibCheck: true, types: [] });
  return { program, checker: program.getTypeChecker() };
}

function packageOf(file: ts.SourceFile): string {
  const rel = relative(typesDir, file.fileName).split('\\').join('/');
  const prefix = PACKAGES[rel];
  if (!prefix) throw new Error(`type from unmapped file ${rel}`);
  return prefix;
}

/** Upstream schema name of a named type referenced from a .d.ts. */
function declOf(checker: ts.TypeChecker, ref: ts.TypeReferenceNode): Decl {
  let symbol = checker.getSymbolAtLocation(ref.typeName);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const node = symbol?.declarations?.find(
    (d): d is ts.InterfaceDeclaration | ts.TypeAliasDeclaration => ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d),
  );
  if (!symbol || !node) throw new Error(`cannot resolve ${ref.getText()}`);
  return { name: `${packageOf(node.getSourceFile())}.${symbol.name}`, node };
}

/** JSDoc text as written (upstream's description, newlines kept). */
function docOf(node: ts.Node): string {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const last = docs[docs.length - 1];
  return last ? (ts.getTextOfJSDocComment(last.comment) ?? '') : '';
}

function isIntOrString(node: ts.UnionTypeNode): boolean {
  const kinds = node.types.map((t) => t.kind).sort();
  return kinds.length === 2 && kinds[0] === ts.SyntaxKind.NumberKeyword && kinds[1] === ts.SyntaxKind.StringKeyword;
}

function ref(name: string): Schema {
  return { $ref: `#/components/schemas/${name}` };
}

class Generator {
  readonly schemas: Record<string, Schema> = {};
  private readonly queue: Decl[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly checker: ts.TypeChecker) {}

  enqueue(decl: Decl): string {
    if (!this.seen.has(decl.name)) {
      this.seen.add(decl.name);
      this.queue.push(decl);
    }
    return decl.name;
  }

  run(): void {
    for (let d = this.queue.shift(); d; d = this.queue.shift()) this.schemas[d.name] = this.named(d);
    this.schemas[INT_OR_STRING] ??= CUSTOM_SCHEMAS[INT_OR_STRING];
  }

  private named(d: Decl): Schema {
    const description = docOf(d.node);
    const custom = CUSTOM_SCHEMAS[d.name];
    if (custom) return { description, ...custom };
    if (!ts.isInterfaceDeclaration(d.node)) throw new Error(`no schema for type alias ${d.name}`);
    const schema: Schema = { description, type: 'object' };
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    let literalApiVersion: string | undefined;
    let literalKind: string | undefined;
    for (const member of d.node.members) {
      if (!ts.isPropertySignature(member) || !member.type) continue;
      const prop = member.name.getText().replace(/^"|"$/g, '');
      properties[prop] = this.property(`${d.name}.${prop}`, member.type, docOf(member));
      if (!member.questionToken) required.push(prop);
      const literal = ts.isLiteralTypeNode(member.type) && ts.isStringLiteral(member.type.literal) ? member.type.literal.text : undefined;
      if (prop === 'apiVersion') literalApiVersion = literal;
      if (prop === 'kind') literalKind = literal;
    }
    Object.assign(properties, EXTRA_PROPERTIES[d.name]);
    if (Object.keys(properties).length) schema.properties = properties;
    if (required.length) schema.required = required;
    const gvks = EXTRA_GVKS[d.name] ?? (literalApiVersion && literalKind ? [gvkOf(literalApiVersion, literalKind)] : undefined);
    if (gvks) schema['x-kubernetes-group-version-kind'] = gvks;
    if (ATOMIC_STRUCTS.includes(d.name)) schema['x-kubernetes-map-type'] = 'atomic';
    return schema;
  }

  /** A property: its type, upstream's description, enum and patch metadata. */
  private property(key: string, type: ts.TypeNode, doc: string): Schema {
    const enumLines = ENUM_VALUES[key];
    const description = enumLines ? `${doc}\n\nPossible enum values:\n${enumLines.join('\n')}` : doc;
    const schema: Schema = { ...this.typeSchema(key, type), description };
    const values = parseEnum(description);
    if (values) {
      const target = schema.type === 'array' ? (schema.items as Schema) : schema;
      target.enum = values;
    }
    const patch = PATCH_META[key];
    if (patch) {
      schema['x-kubernetes-patch-strategy'] = patch.strategy;
      if (patch.mergeKey) schema['x-kubernetes-patch-merge-key'] = patch.mergeKey;
    }
    const smd = LIST_MAP_META[key];
    if (smd?.listType) schema['x-kubernetes-list-type'] = smd.listType;
    if (smd?.listMapKeys) schema['x-kubernetes-list-map-keys'] = smd.listMapKeys;
    if (smd?.mapType) schema['x-kubernetes-map-type'] = smd.mapType;
    if (Object.hasOwn(KEY_DEFAULTS, key)) schema.default = KEY_DEFAULTS[key];
    return schema;
  }

  private typeSchema(key: string, type: ts.TypeNode): Schema {
    if (ts.isTypeReferenceNode(type)) {
      if (type.typeName.getText() === 'Array' && type.typeArguments?.length === 1) {
        return { type: 'array', items: this.itemSchema(key, type.typeArguments[0]) };
      }
      return { allOf: [ref(this.enqueue(declOf(this.checker, type)))] };
    }
    if (ts.isArrayTypeNode(type)) return { type: 'array', items: this.itemSchema(key, type.elementType) };
    if (ts.isUnionTypeNode(type) && isIntOrString(type)) return { allOf: [ref(INT_OR_STRING)] };
    return this.itemSchema(key, type);
  }

  /** Schemas in item/value position reference named types without allOf. */
  private itemSchema(key: string, type: ts.TypeNode): Schema {
    switch (type.kind) {
      case ts.SyntaxKind.StringKeyword: {
        const format = FORMATS[key];
        return format === 'byte' ? { type: 'string', format } : { type: 'string' };
      }
      case ts.SyntaxKind.BooleanKeyword:
        return { type: 'boolean' };
      case ts.SyntaxKind.NumberKeyword: {
        const format = FORMATS[key] ?? 'int32';
        return format === 'double' ? { type: 'number', format } : { type: 'integer', format };
      }
    }
    if (ts.isLiteralTypeNode(type)) return { type: 'string' };
    if (ts.isTypeReferenceNode(type) || ts.isArrayTypeNode(type)) {
      const inner = this.typeSchema(key, type);
      return inner.allOf ? { allOf: inner.allOf } : inner;
    }
    if (ts.isUnionTypeNode(type) && isIntOrString(type)) return { allOf: [ref(INT_OR_STRING)] };
    if (ts.isTypeLiteralNode(type)) {
      const index = type.members.find(ts.isIndexSignatureDeclaration);
      if (index && type.members.length === 1) return { type: 'object', additionalProperties: this.itemSchema(key, index.type) };
    }
    throw new Error(`unsupported type for ${key}: ${type.getText()}`);
  }
}

function gvkOf(apiVersion: string, kind: string) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return { group, version, kind };
}

/** Values from upstream's "Possible enum values:" lines (- `"ClientIP"` is ...). */
function parseEnum(description: string): string[] | undefined {
  const at = description.indexOf('Possible enum values:');
  if (at < 0) return undefined;
  const values = [...description.slice(at).matchAll(/^\s*- `"([^"]*)"`/gm)].map((m) => m[1]);
  return values.length ? values : undefined;
}

/** JSON with object keys sorted at every level, so the output is stable. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

function findRoot(program: ts.Program, name: string): Decl {
  const short = name.slice(name.lastIndexOf('.') + 1);
  for (const [file, prefix] of Object.entries(PACKAGES)) {
    if (`${prefix}.${short}` !== name) continue;
    const source = program.getSourceFile(join(typesDir, file));
    const node = source?.statements.find(
      (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === short,
    );
    if (node) return { name, node };
  }
  throw new Error(`root ${name} not found`);
}

/** A table entry that names no generated property is stale or misspelt. */
function checkTablesUsed(schemas: Record<string, Schema>): void {
  const keys = new Set(
    Object.entries(schemas).flatMap(([name, s]) => Object.keys((s.properties as object | undefined) ?? {}).map((p) => `${name}.${p}`)),
  );
  const stale = [
    ...[FORMATS, ENUM_VALUES, PATCH_META, LIST_MAP_META, KEY_DEFAULTS].flatMap((t) => Object.keys(t)).filter((k) => !keys.has(k)),
    ...ATOMIC_STRUCTS.filter((name) => !schemas[name]),
  ];
  if (stale.length) throw new Error(`table keys naming no property: ${stale.join(', ')}`);
}

function main(): void {
  const { program, checker } = createChecker();
  const gen = new Generator(checker);
  for (const name of ROOTS) gen.enqueue(findRoot(program, name));
  gen.run();
  checkTablesUsed(gen.schemas);
  const json = JSON.stringify(sortKeys(gen.schemas), null, 1);
  writeFileSync(outFile, `${json}\n`);
  const props = Object.values(gen.schemas).reduce((n, s) => n + Object.keys((s.properties as object) ?? {}).length, 0);
  console.log(`wrote ${relative(root, outFile)}: ${Object.keys(gen.schemas).length} schemas, ${props} properties`);
}

// ---------------------------------------------------------------------------
// Upstream facts that kubernetes-types does not carry. Keys are short schema
// names plus the property ("core.v1.PodSpec.activeDeadlineSeconds"). The
// values were taken from upstream's published OpenAPI (via kubernetes-models,
// which is generated from it) and k8s.io/api struct tags; the generator fails
// if a key no longer names a generated property.

/** Short key → full schema-property key. */
function expand<T>(table: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(table).map(([k, v]) => [
      k.startsWith('io.k8s.') ? k : k.startsWith('meta.v1.') ? `${META}.${k.slice(8)}` : `io.k8s.api.${k}`,
      v,
    ]),
  );
}

/** Formats other than int32 of `number` fields (and base64 `string` maps). */
const FORMATS: Record<string, 'int64' | 'double' | 'byte'> = expand({
  'apps.v1.DaemonSetStatus.observedGeneration': 'int64',
  'apps.v1.DeploymentStatus.observedGeneration': 'int64',
  'apps.v1.ReplicaSetStatus.observedGeneration': 'int64',
  'apps.v1.StatefulSetStatus.observedGeneration': 'int64',
  'apps.v1.ControllerRevision.revision': 'int64',
  'batch.v1.JobSpec.activeDeadlineSeconds': 'int64',
  'batch.v1.CronJobSpec.startingDeadlineSeconds': 'int64',
  'policy.v1.PodDisruptionBudgetStatus.observedGeneration': 'int64',
  'authentication.v1.TokenRequestSpec.expirationSeconds': 'int64',
  'core.v1.ConfigMap.binaryData': 'byte',
  'certificates.v1.CertificateSigningRequestSpec.request': 'byte',
  'certificates.v1.CertificateSigningRequestStatus.certificate': 'byte',
  'core.v1.ContainerImage.sizeBytes': 'int64',
  'core.v1.PodSecurityContext.fsGroup': 'int64',
  'core.v1.PodSecurityContext.runAsGroup': 'int64',
  'core.v1.PodSecurityContext.runAsUser': 'int64',
  'core.v1.PodSecurityContext.supplementalGroups': 'int64',
  'core.v1.PodSpec.activeDeadlineSeconds': 'int64',
  'core.v1.PodSpec.terminationGracePeriodSeconds': 'int64',
  'core.v1.Probe.terminationGracePeriodSeconds': 'int64',
  'core.v1.Secret.data': 'byte',
  'core.v1.SecurityContext.runAsGroup': 'int64',
  'core.v1.SecurityContext.runAsUser': 'int64',
  'core.v1.ServiceAccountTokenProjection.expirationSeconds': 'int64',
  'core.v1.SleepAction.seconds': 'int64',
  'core.v1.Toleration.tolerationSeconds': 'int64',
  'meta.v1.Condition.observedGeneration': 'int64',
  'meta.v1.DeleteOptions.gracePeriodSeconds': 'int64',
  'meta.v1.ListMeta.remainingItemCount': 'int64',
  'meta.v1.ObjectMeta.deletionGracePeriodSeconds': 'int64',
  'meta.v1.ObjectMeta.generation': 'int64',
});

/** "Possible enum values" lines of upstream descriptions (kubernetes-types strips them). */
const IMAGE_PULL_POLICY = [
  " - `\"Always\"` means that kubelet always attempts to pull the latest image. Container will fail If the pull fails.",
  " - `\"IfNotPresent\"` means that kubelet pulls if the image isn't present on disk. Container will fail if the image isn't present and the pull fails.",
  " - `\"Never\"` means that kubelet never pulls an image, but only uses a local image. Container will fail if the image isn't present"
];
const TERMINATION_MESSAGE_POLICY = [
  " - `\"FallbackToLogsOnError\"` will read the most recent contents of the container logs for the container status message when the container exits with an error and the terminationMessagePath has no contents.",
  " - `\"File\"` is the default behavior and will set the container status message to the contents of the container's terminationMessagePath when the container exits."
];
const PROTOCOL = [
  " - `\"SCTP\"` is the SCTP protocol.",
  " - `\"TCP\"` is the TCP protocol.",
  " - `\"UDP\"` is the UDP protocol."
];
const EFFECT = [
  " - `\"NoExecute\"` Evict any already-running pods that do not tolerate the taint. Currently enforced by NodeController.",
  " - `\"NoSchedule\"` Do not allow new pods to schedule onto the node unless they tolerate the taint, but allow all pods submitted to Kubelet without going through the scheduler to start, and allow all already-running pods to continue running. Enforced by the scheduler.",
  " - `\"PreferNoSchedule\"` Like TaintEffectNoSchedule, but the scheduler tries not to schedule new pods onto the node, rather than prohibiting new pods from scheduling onto the node entirely. Enforced by the scheduler."
];
const NODE_AFFINITY_POLICY = [
  " - `\"Honor\"` means use this scheduling directive when calculating pod topology spread skew.",
  " - `\"Ignore\"` means ignore this scheduling directive when calculating pod topology spread skew."
];

const ENUM_VALUES: Record<string, string[]> = expand({
  "apps.v1.DaemonSetUpdateStrategy.type": [
    " - `\"OnDelete\"` Replace the old daemons only when it's killed",
    " - `\"RollingUpdate\"` Replace the old daemons by new ones using rolling update i.e replace them on each node one after the other."
  ],
  "apps.v1.DeploymentStrategy.type": [
    " - `\"Recreate\"` Kill all existing pods before creating new ones.",
    " - `\"RollingUpdate\"` Replace the old ReplicaSets by new one using rolling update i.e gradually scale down the old ReplicaSets and scale up the new one."
  ],
  "apps.v1.StatefulSetSpec.podManagementPolicy": [
    " - `\"OrderedReady\"` will create pods in strictly increasing order on scale up and strictly decreasing order on scale down, progressing only when the previous pod is ready or terminated. At most one pod will be changed at any time.",
    " - `\"Parallel\"` will create and delete pods as soon as the stateful set replica count is changed, and will not wait for pods to be ready or complete termination."
  ],
  "apps.v1.StatefulSetUpdateStrategy.type": [
    " - `\"OnDelete\"` triggers the legacy behavior. Version tracking and ordered rolling restarts are disabled. Pods are recreated from the StatefulSetSpec when they are manually deleted. When a scale operation is performed with this strategy,specification version indicated by the StatefulSet's currentRevision.",
    " - `\"RollingUpdate\"` indicates that update will be applied to all Pods in the StatefulSet with respect to the StatefulSet ordering constraints. When a scale operation is performed with this strategy, new Pods will be created from the specification version indicated by the StatefulSet's updateRevision."
  ],
  "core.v1.AppArmorProfile.type": [
    " - `\"Localhost\"` indicates that a profile pre-loaded on the node should be used.",
    " - `\"RuntimeDefault\"` indicates that the container runtime's default AppArmor profile should be used.",
    " - `\"Unconfined\"` indicates that no AppArmor profile should be enforced."
  ],
  "core.v1.AzureDiskVolumeSource.cachingMode": [
    " - `\"None\"`",
    " - `\"ReadOnly\"`",
    " - `\"ReadWrite\"`"
  ],
  "core.v1.AzureDiskVolumeSource.kind": [
    " - `\"Dedicated\"`",
    " - `\"Managed\"`",
    " - `\"Shared\"`"
  ],
  "core.v1.Container.imagePullPolicy": IMAGE_PULL_POLICY,
  "core.v1.Container.terminationMessagePolicy": TERMINATION_MESSAGE_POLICY,
  "core.v1.ContainerPort.protocol": PROTOCOL,
  "core.v1.EndpointPort.protocol": PROTOCOL,
  "core.v1.EphemeralContainer.imagePullPolicy": IMAGE_PULL_POLICY,
  "core.v1.EphemeralContainer.terminationMessagePolicy": TERMINATION_MESSAGE_POLICY,
  "core.v1.HTTPGetAction.scheme": [
    " - `\"HTTP\"` means that the scheme used will be http://",
    " - `\"HTTPS\"` means that the scheme used will be https://"
  ],
  "core.v1.HostPathVolumeSource.type": [
    " - `\"\"` For backwards compatible, leave it empty if unset",
    " - `\"BlockDevice\"` A block device must exist at the given path",
    " - `\"CharDevice\"` A character device must exist at the given path",
    " - `\"Directory\"` A directory must exist at the given path",
    " - `\"DirectoryOrCreate\"` If nothing exists at the given path, an empty directory will be created there as needed with file mode 0755, having the same group and ownership with Kubelet.",
    " - `\"File\"` A file must exist at the given path",
    " - `\"FileOrCreate\"` If nothing exists at the given path, an empty file will be created there as needed with file mode 0644, having the same group and ownership with Kubelet.",
    " - `\"Socket\"` A UNIX socket must exist at the given path"
  ],
  "core.v1.NamespaceStatus.phase": [
    " - `\"Active\"` means the namespace is available for use in the system",
    " - `\"Terminating\"` means the namespace is undergoing graceful termination"
  ],
  "core.v1.NodeSelectorRequirement.operator": [
    " - `\"DoesNotExist\"`",
    " - `\"Exists\"`",
    " - `\"Gt\"`",
    " - `\"In\"`",
    " - `\"Lt\"`",
    " - `\"NotIn\"`"
  ],
  "core.v1.NodeStatus.phase": [
    " - `\"Pending\"` means the node has been created/added by the system, but not configured.",
    " - `\"Running\"` means the node has been configured and has Kubernetes components running.",
    " - `\"Terminated\"` means the node has been removed from the cluster."
  ],
  "core.v1.PersistentVolumeClaimStatus.phase": [
    " - `\"Bound\"` used for PersistentVolumeClaims that are bound",
    " - `\"Lost\"` used for PersistentVolumeClaims that lost their underlying PersistentVolume. The claim was bound to a PersistentVolume and this volume does not exist any longer and all data on it was lost.",
    " - `\"Pending\"` used for PersistentVolumeClaims that are not yet bound"
  ],
  "core.v1.PersistentVolumeClaimSpec.volumeMode": [
    " - `\"Block\"` means the volume will not be formatted with a filesystem and will remain a raw block device.",
    " - `\"Filesystem\"` means the volume will be or is formatted with a filesystem."
  ],
  "core.v1.PodSecurityContext.fsGroupChangePolicy": [
    " - `\"Always\"` indicates that volume's ownership and permissions should always be changed whenever volume is mounted inside a Pod. This the default behavior.",
    " - `\"OnRootMismatch\"` indicates that volume's ownership and permissions will be changed only when permission and ownership of root directory does not match with expected permissions on the volume. This can help shorten the time it takes to change ownership and permissions of a volume."
  ],
  "core.v1.PodSpec.dnsPolicy": [
    " - `\"ClusterFirst\"` indicates that the pod should use cluster DNS first unless hostNetwork is true, if it is available, then fall back on the default (as determined by kubelet) DNS settings.",
    " - `\"ClusterFirstWithHostNet\"` indicates that the pod should use cluster DNS first, if it is available, then fall back on the default (as determined by kubelet) DNS settings.",
    " - `\"Default\"` indicates that the pod should use the default (as determined by kubelet) DNS settings.",
    " - `\"None\"` indicates that the pod should use empty DNS settings. DNS parameters such as nameservers and search paths should be defined via DNSConfig."
  ],
  "core.v1.PodSpec.preemptionPolicy": [
    " - `\"Never\"` means that pod never preempts other pods with lower priority.",
    " - `\"PreemptLowerPriority\"` means that pod can preempt other pods with lower priority."
  ],
  "core.v1.PodSpec.restartPolicy": [
    " - `\"Always\"`",
    " - `\"Never\"`",
    " - `\"OnFailure\"`"
  ],
  "core.v1.PodStatus.phase": [
    " - `\"Failed\"` means that all containers in the pod have terminated, and at least one container has terminated in a failure (exited with a non-zero exit code or was stopped by the system).",
    " - `\"Pending\"` means the pod has been accepted by the system, but one or more of the containers has not been started. This includes time before being bound to a node, as well as time spent pulling images onto the host.",
    " - `\"Running\"` means the pod has been bound to a node and all of the containers have been started. At least one container is still running or is in the process of being restarted.",
    " - `\"Succeeded\"` means that all containers in the pod have voluntarily terminated with a container exit code of 0, and the system is not going to restart any of these containers.",
    " - `\"Unknown\"` means that for some reason the state of the pod could not be obtained, typically due to an error in communicating with the host of the pod. Deprecated: It isn't being set since 2015 (74da3b14b0c0f658b3bb8d2def5094686d0e9095)"
  ],
  "core.v1.PodStatus.qosClass": [
    " - `\"BestEffort\"` is the BestEffort qos class.",
    " - `\"Burstable\"` is the Burstable qos class.",
    " - `\"Guaranteed\"` is the Guaranteed qos class."
  ],
  "core.v1.PortStatus.protocol": PROTOCOL,
  "core.v1.SeccompProfile.type": [
    " - `\"Localhost\"` indicates a profile defined in a file on the node should be used. The file's location relative to <kubelet-root-dir>/seccomp.",
    " - `\"RuntimeDefault\"` represents the default container runtime seccomp profile.",
    " - `\"Unconfined\"` indicates no seccomp profile is applied (A.K.A. unconfined)."
  ],
  "core.v1.SecurityContext.procMount": [
    " - `\"Default\"` uses the container runtime defaults for readonly and masked paths for /proc. Most container runtimes mask certain paths in /proc to avoid accidental security exposure of special devices or information.",
    " - `\"Unmasked\"` bypasses the default masking behavior of the container runtime and ensures the newly created /proc the container stays in tact with no modifications."
  ],
  "core.v1.ServicePort.protocol": PROTOCOL,
  "core.v1.ServiceSpec.externalTrafficPolicy": [
    " - `\"Cluster\"` routes traffic to all endpoints.",
    " - `\"Local\"` preserves the source IP of the traffic by routing only to endpoints on the same node as the traffic was received on (dropping the traffic if there are no local endpoints)."
  ],
  "core.v1.ServiceSpec.internalTrafficPolicy": [
    " - `\"Cluster\"` routes traffic to all endpoints.",
    " - `\"Local\"` routes traffic only to endpoints on the same node as the client pod (dropping the traffic if there are no local endpoints)."
  ],
  "core.v1.ServiceSpec.ipFamilyPolicy": [
    " - `\"PreferDualStack\"` indicates that this service prefers dual-stack when the cluster is configured for dual-stack. If the cluster is not configured for dual-stack the service will be assigned a single IPFamily. If the IPFamily is not set in service.spec.ipFamilies then the service will be assigned the default IPFamily configured on the cluster",
    " - `\"RequireDualStack\"` indicates that this service requires dual-stack. Using IPFamilyPolicyRequireDualStack on a single stack cluster will result in validation errors. The IPFamilies (and their order) assigned to this service is based on service.spec.ipFamilies. If service.spec.ipFamilies was not provided then it will be assigned according to how they are configured on the cluster. If service.spec.ipFamilies has only one entry then the alternative IPFamily will be added by apiserver",
    " - `\"SingleStack\"` indicates that this service is required to have a single IPFamily. The IPFamily assigned is based on the default IPFamily used by the cluster or as identified by service.spec.ipFamilies field"
  ],
  "core.v1.ServiceSpec.sessionAffinity": [
    " - `\"ClientIP\"` is the Client IP based.",
    " - `\"None\"` - no session affinity."
  ],
  "core.v1.ServiceSpec.type": [
    " - `\"ClusterIP\"` means a service will only be accessible inside the cluster, via the cluster IP.",
    " - `\"ExternalName\"` means a service consists of only a reference to an external name that kubedns or equivalent will return as a CNAME record, with no exposing or proxying of any pods involved.",
    " - `\"LoadBalancer\"` means a service will be exposed via an external load balancer (if the cloud provider supports it), in addition to 'NodePort' type.",
    " - `\"NodePort\"` means a service will be exposed on one port of every node, in addition to 'ClusterIP' type."
  ],
  "core.v1.Taint.effect": EFFECT,
  "core.v1.Toleration.effect": EFFECT,
  "core.v1.Toleration.operator": [
    " - `\"Equal\"`",
    " - `\"Exists\"`",
    " - `\"Gt\"`",
    " - `\"Lt\"`"
  ],
  "core.v1.TopologySpreadConstraint.nodeAffinityPolicy": NODE_AFFINITY_POLICY,
  "core.v1.TopologySpreadConstraint.nodeTaintsPolicy": NODE_AFFINITY_POLICY,
  "core.v1.TopologySpreadConstraint.whenUnsatisfiable": [
    " - `\"DoNotSchedule\"` instructs the scheduler not to schedule the pod when constraints are not satisfied.",
    " - `\"ScheduleAnyway\"` instructs the scheduler to schedule the pod even if constraints are not satisfied."
  ],
  "core.v1.VolumeMount.mountPropagation": [
    " - `\"Bidirectional\"` means that the volume in a container will receive new mounts from the host or other containers, and its own mounts will be propagated from the container to the host or other containers. Note that this mode is recursively applied to all mounts in the volume (\"rshared\" in Linux terminology).",
    " - `\"HostToContainer\"` means that the volume in a container will receive new mounts from the host or other containers, but filesystems mounted inside the container won't be propagated to the host or other containers. Note that this mode is recursively applied to all mounts in the volume (\"rslave\" in Linux terminology).",
    " - `\"None\"` means that the volume in a container will not receive new mounts from the host or other containers, and filesystems mounted inside the container won't be propagated to the host or other containers. Note that this mode corresponds to \"private\" in Linux terminology."
  ],
  "discovery.v1.EndpointPort.protocol": PROTOCOL,
  "discovery.v1.EndpointSlice.addressType": [
    " - `\"FQDN\"` represents a FQDN.",
    " - `\"IPv4\"` represents an IPv4 Address.",
    " - `\"IPv6\"` represents an IPv6 Address."
  ],
});

/** Strategic merge patch metadata: the patchStrategy/patchMergeKey struct tags. */
const PATCH_META: Record<string, { strategy: string; mergeKey?: string }> = expand({
  'meta.v1.ObjectMeta.finalizers': { strategy: 'merge' },
  'meta.v1.ObjectMeta.ownerReferences': { strategy: 'merge', mergeKey: 'uid' },
  'core.v1.PodSpec.containers': { strategy: 'merge', mergeKey: 'name' },
  'core.v1.PodSpec.ephemeralContainers': { strategy: 'merge', mergeKey: 'name' },
  'core.v1.PodSpec.hostAliases': { strategy: 'merge', mergeKey: 'ip' },
  'core.v1.PodSpec.imagePullSecrets': { strategy: 'merge', mergeKey: 'name' },
  'core.v1.PodSpec.initContainers': { strategy: 'merge', mergeKey: 'name' },
  'core.v1.PodSpec.resourceClaims': { strategy: 'merge,retainKeys', mergeKey: 'name' },
  'core.v1.PodSpec.schedulingGates': { strategy: 'merge', mergeKey: 'name' },
  'core.v1.PodSpec.topologySpreadConstraints': { strategy: 'merge', mergeKey: 'topologyKey' },
  'core.v1.PodSpec.volumes': { strategy: 'merge,retainKeys', mergeKey: 'name' },
  'core.v1.Container.env': { strategy: 'merge', mergeKey: 'name' },
  'core.v1.Container.ports': { strategy: 'merge', mergeKey: 'containerPort' },
  'core.v1.Container.volumeDevices': { strategy: 'merge', mergeKey: 'devicePath' },
  'core.v1.Container.volumeMounts': { strategy: 'merge', mergeKey: 'mountPath' },
  'core.v1.EphemeralContainer.env': { strategy: 'merge', mergeKey: 'name' },
  'core.v1.EphemeralContainer.ports': { strategy: 'merge', mergeKey: 'containerPort' },
  'core.v1.EphemeralContainer.volumeDevices': { strategy: 'merge', mergeKey: 'devicePath' },
  'core.v1.EphemeralContainer.volumeMounts': { strategy: 'merge', mergeKey: 'mountPath' },
  'core.v1.PodStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'core.v1.PodStatus.hostIPs': { strategy: 'merge', mergeKey: 'ip' },
  'core.v1.PodStatus.podIPs': { strategy: 'merge', mergeKey: 'ip' },
  'core.v1.PodStatus.resourceClaimStatuses': { strategy: 'merge,retainKeys', mergeKey: 'name' },
  'core.v1.ServiceSpec.ports': { strategy: 'merge', mergeKey: 'port' },
  'core.v1.ServiceStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'core.v1.NamespaceStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'core.v1.NodeSpec.podCIDRs': { strategy: 'merge' },
  'core.v1.NodeStatus.addresses': { strategy: 'merge', mergeKey: 'type' },
  'core.v1.NodeStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'core.v1.ServiceAccount.secrets': { strategy: 'merge', mergeKey: 'name' },
  'apps.v1.DeploymentSpec.strategy': { strategy: 'retainKeys' },
  'apps.v1.DeploymentStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'apps.v1.ReplicaSetStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'apps.v1.DaemonSetStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'apps.v1.StatefulSetStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'batch.v1.JobStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'core.v1.PersistentVolumeClaimStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
  'core.v1.ContainerStatus.volumeMounts': { strategy: 'merge', mergeKey: 'mountPath' },
  'policy.v1.PodDisruptionBudgetSpec.selector': { strategy: 'replace' },
  'policy.v1.PodDisruptionBudgetStatus.conditions': { strategy: 'merge', mergeKey: 'type' },
});

/**
 * Structured-merge metadata kube-openapi publishes from the +listType,
 * +listMapKey and +mapType / +structType markers of upstream's Go types
 * (x-kubernetes-list-type, -list-map-keys, -map-type); each group names the
 * file (at the Kubernetes 1.32 tag v0.32.9 of the staging repository) whose
 * field comments carry it. Fields of inline-embedded structs are listed under
 * the kind that embeds them, as kube-openapi flattens them.
 */
const LIST_MAP_META: Record<string, { listType?: 'atomic' | 'set' | 'map'; listMapKeys?: string[]; mapType?: 'atomic' | 'granular' }> = expand({
  // k8s.io/api v0.32.9 core/v1/types.go
  'core.v1.PersistentVolumeClaimSpec.accessModes': { listType: 'atomic' },
  'core.v1.PersistentVolumeClaimStatus.accessModes': { listType: 'atomic' },
  'core.v1.PersistentVolumeClaimStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
  'core.v1.PersistentVolumeClaimStatus.allocatedResourceStatuses': { mapType: 'granular' },
  'core.v1.RBDVolumeSource.monitors': { listType: 'atomic' },
  'core.v1.CephFSVolumeSource.monitors': { listType: 'atomic' },
  'core.v1.SecretVolumeSource.items': { listType: 'atomic' },
  'core.v1.SecretProjection.items': { listType: 'atomic' },
  'core.v1.ISCSIVolumeSource.portals': { listType: 'atomic' },
  'core.v1.FCVolumeSource.targetWWNs': { listType: 'atomic' },
  'core.v1.FCVolumeSource.wwids': { listType: 'atomic' },
  'core.v1.ConfigMapVolumeSource.items': { listType: 'atomic' },
  'core.v1.ConfigMapProjection.items': { listType: 'atomic' },
  'core.v1.ProjectedVolumeSource.sources': { listType: 'atomic' },
  'core.v1.HTTPGetAction.httpHeaders': { listType: 'atomic' },
  'core.v1.ExecAction.command': { listType: 'atomic' },
  'core.v1.Capabilities.add': { listType: 'atomic' },
  'core.v1.Capabilities.drop': { listType: 'atomic' },
  'core.v1.ResourceRequirements.claims': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.Container.command': { listType: 'atomic' },
  'core.v1.Container.args': { listType: 'atomic' },
  'core.v1.Container.ports': { listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
  'core.v1.Container.envFrom': { listType: 'atomic' },
  'core.v1.Container.env': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.Container.resizePolicy': { listType: 'atomic' },
  'core.v1.Container.volumeMounts': { listType: 'map', listMapKeys: ['mountPath'] },
  'core.v1.Container.volumeDevices': { listType: 'map', listMapKeys: ['devicePath'] },
  'core.v1.ContainerStatus.volumeMounts': { listType: 'map', listMapKeys: ['mountPath'] },
  'core.v1.NodeSelector.nodeSelectorTerms': { listType: 'atomic' },
  'core.v1.NodeSelectorTerm.matchExpressions': { listType: 'atomic' },
  'core.v1.NodeSelectorTerm.matchFields': { listType: 'atomic' },
  'core.v1.NodeSelectorRequirement.values': { listType: 'atomic' },
  'core.v1.PodAffinity.requiredDuringSchedulingIgnoredDuringExecution': { listType: 'atomic' },
  'core.v1.PodAffinity.preferredDuringSchedulingIgnoredDuringExecution': { listType: 'atomic' },
  'core.v1.PodAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution': { listType: 'atomic' },
  'core.v1.PodAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution': { listType: 'atomic' },
  'core.v1.PodAffinityTerm.namespaces': { listType: 'atomic' },
  'core.v1.PodAffinityTerm.matchLabelKeys': { listType: 'atomic' },
  'core.v1.PodAffinityTerm.mismatchLabelKeys': { listType: 'atomic' },
  'core.v1.NodeAffinity.preferredDuringSchedulingIgnoredDuringExecution': { listType: 'atomic' },
  'core.v1.PodSpec.volumes': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.PodSpec.initContainers': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.PodSpec.containers': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.PodSpec.ephemeralContainers': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.PodSpec.nodeSelector': { mapType: 'atomic' },
  'core.v1.PodSpec.imagePullSecrets': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.PodSpec.tolerations': { listType: 'atomic' },
  'core.v1.PodSpec.hostAliases': { listType: 'map', listMapKeys: ['ip'] },
  'core.v1.PodSpec.readinessGates': { listType: 'atomic' },
  'core.v1.PodSpec.topologySpreadConstraints': { listType: 'map', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] },
  'core.v1.PodSpec.schedulingGates': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.PodSpec.resourceClaims': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.TopologySpreadConstraint.matchLabelKeys': { listType: 'atomic' },
  'core.v1.HostAlias.hostnames': { listType: 'atomic' },
  'core.v1.PodSecurityContext.supplementalGroups': { listType: 'atomic' },
  'core.v1.PodSecurityContext.sysctls': { listType: 'atomic' },
  'core.v1.PodDNSConfig.nameservers': { listType: 'atomic' },
  'core.v1.PodDNSConfig.searches': { listType: 'atomic' },
  'core.v1.PodDNSConfig.options': { listType: 'atomic' },
  'core.v1.PodStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
  'core.v1.PodStatus.hostIPs': { listType: 'atomic' },
  'core.v1.PodStatus.podIPs': { listType: 'map', listMapKeys: ['ip'] },
  'core.v1.PodStatus.initContainerStatuses': { listType: 'atomic' },
  'core.v1.PodStatus.containerStatuses': { listType: 'atomic' },
  'core.v1.PodStatus.ephemeralContainerStatuses': { listType: 'atomic' },
  'core.v1.PodStatus.resourceClaimStatuses': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.ServiceStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
  'core.v1.LoadBalancerStatus.ingress': { listType: 'atomic' },
  'core.v1.LoadBalancerIngress.ports': { listType: 'atomic' },
  'core.v1.ServiceSpec.ports': { listType: 'map', listMapKeys: ['port', 'protocol'] },
  'core.v1.ServiceSpec.selector': { mapType: 'atomic' },
  'core.v1.ServiceSpec.clusterIPs': { listType: 'atomic' },
  'core.v1.ServiceSpec.externalIPs': { listType: 'atomic' },
  'core.v1.ServiceSpec.loadBalancerSourceRanges': { listType: 'atomic' },
  'core.v1.ServiceSpec.ipFamilies': { listType: 'atomic' },
  'core.v1.ServiceAccount.secrets': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.ServiceAccount.imagePullSecrets': { listType: 'atomic' },
  'core.v1.Endpoints.subsets': { listType: 'atomic' },
  'core.v1.EndpointSubset.addresses': { listType: 'atomic' },
  'core.v1.EndpointSubset.notReadyAddresses': { listType: 'atomic' },
  'core.v1.EndpointSubset.ports': { listType: 'atomic' },
  'core.v1.NodeSpec.podCIDRs': { listType: 'set' },
  'core.v1.NodeSpec.taints': { listType: 'atomic' },
  'core.v1.NodeStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
  'core.v1.NodeStatus.addresses': { listType: 'map', listMapKeys: ['type'] },
  'core.v1.NodeStatus.images': { listType: 'atomic' },
  'core.v1.NodeStatus.volumesInUse': { listType: 'atomic' },
  'core.v1.NodeStatus.volumesAttached': { listType: 'atomic' },
  'core.v1.NodeStatus.runtimeHandlers': { listType: 'atomic' },
  'core.v1.ContainerImage.names': { listType: 'atomic' },
  'core.v1.NamespaceSpec.finalizers': { listType: 'atomic' },
  'core.v1.NamespaceStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
  'core.v1.DownwardAPIVolumeSource.items': { listType: 'atomic' },
  'core.v1.DownwardAPIProjection.items': { listType: 'atomic' },
  // k8s.io/api v0.32.9 apps/v1/types.go
  'apps.v1.StatefulSetSpec.volumeClaimTemplates': { listType: 'atomic' },
  'apps.v1.StatefulSetStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
  'apps.v1.DeploymentStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
  'apps.v1.DaemonSetStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
  'apps.v1.ReplicaSetStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
  // k8s.io/api v0.32.9 batch/v1/types.go
  'batch.v1.PodFailurePolicyOnExitCodesRequirement.values': { listType: 'set' },
  'batch.v1.PodFailurePolicyRule.onPodConditions': { listType: 'atomic' },
  'batch.v1.PodFailurePolicy.rules': { listType: 'atomic' },
  'batch.v1.SuccessPolicy.rules': { listType: 'atomic' },
  'batch.v1.JobStatus.conditions': { listType: 'atomic' },
  'batch.v1.UncountedTerminatedPods.succeeded': { listType: 'set' },
  'batch.v1.UncountedTerminatedPods.failed': { listType: 'set' },
  'batch.v1.CronJobStatus.active': { listType: 'atomic' },
  // k8s.io/api v0.32.9 policy/v1/types.go
  'policy.v1.PodDisruptionBudgetStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
  // k8s.io/api v0.32.9 discovery/v1/types.go
  'discovery.v1.EndpointSlice.endpoints': { listType: 'atomic' },
  'discovery.v1.EndpointSlice.ports': { listType: 'atomic' },
  'discovery.v1.Endpoint.addresses': { listType: 'set' },
  'discovery.v1.EndpointHints.forZones': { listType: 'atomic' },
  // k8s.io/api v0.32.9 rbac/v1/types.go
  'rbac.v1.PolicyRule.verbs': { listType: 'atomic' },
  'rbac.v1.PolicyRule.apiGroups': { listType: 'atomic' },
  'rbac.v1.PolicyRule.resources': { listType: 'atomic' },
  'rbac.v1.PolicyRule.resourceNames': { listType: 'atomic' },
  'rbac.v1.PolicyRule.nonResourceURLs': { listType: 'atomic' },
  'rbac.v1.Role.rules': { listType: 'atomic' },
  'rbac.v1.RoleBinding.subjects': { listType: 'atomic' },
  'rbac.v1.ClusterRole.rules': { listType: 'atomic' },
  'rbac.v1.AggregationRule.clusterRoleSelectors': { listType: 'atomic' },
  'rbac.v1.ClusterRoleBinding.subjects': { listType: 'atomic' },
  // k8s.io/api v0.32.9 authorization/v1/types.go
  'authorization.v1.SubjectAccessReviewSpec.groups': { listType: 'atomic' },
  'authorization.v1.SubjectRulesReviewStatus.resourceRules': { listType: 'atomic' },
  'authorization.v1.SubjectRulesReviewStatus.nonResourceRules': { listType: 'atomic' },
  'authorization.v1.ResourceRule.apiGroups': { listType: 'atomic' },
  'authorization.v1.ResourceRule.resourceNames': { listType: 'atomic' },
  'authorization.v1.NonResourceRule.verbs': { listType: 'atomic' },
  'authorization.v1.NonResourceRule.nonResourceURLs': { listType: 'atomic' },
  // k8s.io/api v0.32.9 authentication/v1/types.go
  'authentication.v1.TokenReviewSpec.audiences': { listType: 'atomic' },
  'authentication.v1.TokenReviewStatus.audiences': { listType: 'atomic' },
  'authentication.v1.UserInfo.groups': { listType: 'atomic' },
  'authentication.v1.TokenRequestSpec.audiences': { listType: 'atomic' },
  // k8s.io/apiextensions-apiserver v0.32.9 pkg/apis/apiextensions/v1/types.go
  [`${APIEXTENSIONS}.CustomResourceDefinitionSpec.versions`]: { listType: 'atomic' },
  [`${APIEXTENSIONS}.WebhookConversion.conversionReviewVersions`]: { listType: 'atomic' },
  [`${APIEXTENSIONS}.CustomResourceDefinitionVersion.additionalPrinterColumns`]: { listType: 'atomic' },
  [`${APIEXTENSIONS}.CustomResourceDefinitionVersion.selectableFields`]: { listType: 'atomic' },
  [`${APIEXTENSIONS}.CustomResourceDefinitionNames.shortNames`]: { listType: 'atomic' },
  [`${APIEXTENSIONS}.CustomResourceDefinitionNames.categories`]: { listType: 'atomic' },
  [`${APIEXTENSIONS}.CustomResourceDefinitionStatus.conditions`]: { listType: 'map', listMapKeys: ['type'] },
  [`${APIEXTENSIONS}.CustomResourceDefinitionStatus.storedVersions`]: { listType: 'atomic' },
  // k8s.io/apiextensions-apiserver v0.32.9 pkg/apis/apiextensions/v1/types_jsonschema.go
  [`${APIEXTENSIONS}.JSONSchemaProps.enum`]: { listType: 'atomic' },
  [`${APIEXTENSIONS}.JSONSchemaProps.required`]: { listType: 'atomic' },
  [`${APIEXTENSIONS}.JSONSchemaProps.allOf`]: { listType: 'atomic' },
  [`${APIEXTENSIONS}.JSONSchemaProps.oneOf`]: { listType: 'atomic' },
  [`${APIEXTENSIONS}.JSONSchemaProps.anyOf`]: { listType: 'atomic' },
  // k8s.io/apimachinery v0.32.9 pkg/apis/meta/v1/types.go
  'meta.v1.ObjectMeta.ownerReferences': { listType: 'map', listMapKeys: ['uid'] },
  'meta.v1.ObjectMeta.finalizers': { listType: 'set' },
  'meta.v1.ObjectMeta.managedFields': { listType: 'atomic' },
  'meta.v1.DeleteOptions.dryRun': { listType: 'atomic' },
  'meta.v1.Status.details': { listType: 'atomic' },
  'meta.v1.StatusDetails.causes': { listType: 'atomic' },
  'meta.v1.LabelSelector.matchExpressions': { listType: 'atomic' },
  'meta.v1.LabelSelectorRequirement.values': { listType: 'atomic' },
  // k8s.io/api v0.32.9 core/v1/types.go (EphemeralContainerCommon, inline)
  'core.v1.EphemeralContainer.command': { listType: 'atomic' },
  'core.v1.EphemeralContainer.args': { listType: 'atomic' },
  'core.v1.EphemeralContainer.ports': { listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
  'core.v1.EphemeralContainer.envFrom': { listType: 'atomic' },
  'core.v1.EphemeralContainer.env': { listType: 'map', listMapKeys: ['name'] },
  'core.v1.EphemeralContainer.resizePolicy': { listType: 'atomic' },
  'core.v1.EphemeralContainer.volumeMounts': { listType: 'map', listMapKeys: ['mountPath'] },
  'core.v1.EphemeralContainer.volumeDevices': { listType: 'map', listMapKeys: ['devicePath'] },
  // k8s.io/api v0.32.9 certificates/v1/types.go
  'certificates.v1.CertificateSigningRequestSpec.usages': { listType: 'atomic' },
  'certificates.v1.CertificateSigningRequestSpec.groups': { listType: 'atomic' },
  'certificates.v1.CertificateSigningRequestStatus.conditions': { listType: 'map', listMapKeys: ['type'] },
});

/**
 * Upstream's +default= markers on fields that are x-kubernetes-list-map-keys
 * (kube-openapi publishes them as the property's `default`; structured-merge-diff
 * fills a missing key field from it). The other key fields have no marker.
 */
const KEY_DEFAULTS: Record<string, string> = expand({
  // k8s.io/api v0.32.9 core/v1/types.go:2248 (ContainerPort.Protocol, +default="TCP")
  'core.v1.ContainerPort.protocol': 'TCP',
  // k8s.io/api v0.32.9 core/v1/types.go:5716 (ServicePort.Protocol, +default="TCP")
  'core.v1.ServicePort.protocol': 'TCP',
  // k8s.io/api v0.32.9 core/v1/types.go:6960 (LocalObjectReference.Name, +default=""), PodSpec.imagePullSecrets' key
  'core.v1.LocalObjectReference.name': '',
});

/**
 * Types whose +structType=atomic marker kube-openapi publishes as
 * x-kubernetes-map-type: atomic on the type's schema.
 */
const ATOMIC_STRUCTS: string[] = [
  // k8s.io/api v0.32.9 core/v1/types.go
  ...['ObjectFieldSelector', 'ResourceFieldSelector', 'ConfigMapKeySelector', 'SecretKeySelector', 'NodeSelector', 'NodeSelectorTerm', 'EndpointAddress', 'EndpointPort', 'ObjectReference', 'LocalObjectReference', 'TypedLocalObjectReference'].map((t) => `io.k8s.api.core.v1.${t}`),
  // k8s.io/api v0.32.9 discovery/v1/types.go
  'io.k8s.api.discovery.v1.EndpointPort',
  // k8s.io/api v0.32.9 rbac/v1/types.go
  'io.k8s.api.rbac.v1.Subject',
  'io.k8s.api.rbac.v1.RoleRef',
  // k8s.io/apimachinery v0.32.9 pkg/apis/meta/v1/types.go
  `${META}.OwnerReference`,
  `${META}.LabelSelector`,
];

main();
