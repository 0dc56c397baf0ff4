// The CEL language (cel-spec langdef.md) as compiled and evaluated here: a
// table of expressions and their results (printed as CEL's string() of the
// value), runtime errors and compile errors with cel-go's wording.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/apiextensions/cel/program.js';
import { T, type CelType } from '../../src/apiextensions/cel/types.js';
import { CelError, formatValue, type CelValue } from '../../src/apiextensions/cel/values.js';

/** The value of `src` as "<type>:<string form>", "error: <message>" or "compile: <issues>". */
function run(src: string, types: Record<string, CelType> = {}, values: Record<string, CelValue> = {}): string {
  const c = compile(src, new Map(Object.entries(types)));
  if (!c.program) return `compile: ${c.issues}`;
  try {
    const { value } = c.program.eval(new Map(Object.entries(values)));
    return formatValue(value);
  } catch (e) {
    if (!(e instanceof CelError)) throw e;
    return `error: ${e.message}`;
  }
}

const table: [string, string][] = [
  // literals
  ['1', '1'],
  ['-9223372036854775808', '-9223372036854775808'],
  ['0x1F', '31'],
  ['7u', '7'],
  ['1.5e3', '1500'],
  ['.5', '0.5'],
  ['"a\\tb"', 'a\tb'],
  ["'\\u00e9'", 'é'],
  ['r"\\d+"', '\\d+'],
  ["'''multi\nline'''", 'multi\nline'],
  ['b"\\x61bc"', 'abc'],
  ['true', 'true'],
  ['null', 'null'],
  ['[1, 2, 3]', '[1, 2, 3]'],
  ['{"a": 1, "b": 2}', '{"a": 1, "b": 2}'],
  // arithmetic
  ['1 + 2 * 3 - 4 / 2', '5'],
  ['7 % 3', '1'],
  ['-7 / 2', '-3'],
  ['-7 % 2', '-1'],
  ['2u * 3u', '6'],
  ['1.5 + 2.25', '3.75'],
  ['"ab" + "cd"', 'abcd'],
  ['[1] + [2, 3]', '[1, 2, 3]'],
  ['9223372036854775807 + 1', 'error: integer overflow'],
  ['-9223372036854775808 - 1', 'error: integer overflow'],
  ['0u - 1u', 'error: unsigned integer overflow'],
  ['1 / 0', 'error: division by zero'],
  ['1 % 0', 'error: modulus by zero'],
  ['1.0 / 0.0', '+Inf'],
  // comparisons and equality
  ['1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3', 'true'],
  ['1 < 1.5', 'true'],
  ['2u > 1', 'true'],
  ['"abc" < "abd"', 'true'],
  ['[1, 2] == [1, 2]', 'true'],
  ['{"a": [1]} == {"a": [1]}', 'true'],
  ['dyn(1) == 1.0', 'true'],
  ['dyn(1u) == 1', 'true'],
  ['1 != 2', 'true'],
  ['2 in [1, 2]', 'true'],
  ['"a" in {"a": 1}', 'true'],
  ['"z" in {"a": 1}', 'false'],
  // logic, with errors absorbed as the spec says
  ['true && false || true', 'true'],
  ['false && 1 / 0 == 1', 'false'],
  ['1 / 0 == 1 && false', 'false'],
  ['1 / 0 == 1 || true', 'true'],
  ['1 / 0 == 1 || false', 'error: division by zero'],
  ['!true', 'false'],
  ['true ? 1 : 2', '1'],
  ['false ? 1 : 1 / 0', 'error: division by zero'],
  // selection and indexing
  ['{"a": {"b": 2}}.a.b', '2'],
  ['{"a": 1}.b', 'error: no such key: b'],
  ['{"a": 1}["a"]', '1'],
  ['[1, 2][1]', '2'],
  ['[1, 2][2]', "error: index '2' out of range in list size '2'"],
  ['dyn({1: "x"})[1u]', 'x'],
  ['has({"a": 1}.a)', 'true'],
  ['has({"a": 1}.b)', 'false'],
  // macros
  ['[1, 2, 3].all(x, x > 0)', 'true'],
  ['[1, 2, 3].exists(x, x > 2)', 'true'],
  ['[1, 2, 3].exists_one(x, x > 1)', 'false'],
  ['[1, 2, 3].map(x, x * x)', '[1, 4, 9]'],
  ['[1, 2, 3].map(x, x > 1, x * 10)', '[20, 30]'],
  ['[1, 2, 3].filter(x, x % 2 == 1)', '[1, 3]'],
  ['{"a": 1, "b": 2}.all(k, k.size() == 1)', 'true'],
  ['{"a": 1, "b": 2}.map(k, k + k)', '["aa", "bb"]'],
  ['[0, 1].all(x, 1 / x > 0)', 'error: division by zero'],
  ['[0, 1].exists(x, 1 / x > 0)', 'true'],
  ['[[1, 2], [3]].all(l, l.all(x, x < 4))', 'true'],
  // size and strings
  ['size("héllo")', '5'],
  ['"héllo".size()', '5'],
  ['size([1, 2])', '2'],
  ['size({"a": 1})', '1'],
  ['size(b"ab")', '2'],
  ['"hello".startsWith("he") && "hello".endsWith("lo") && "hello".contains("ell")', 'true'],
  ['"abc123".matches("[0-9]+$")', 'true'],
  ['"abc".matches("^b")', 'false'],
  ['matches("x", "x")', 'true'],
  // conversions
  ['int("42")', '42'],
  ['int(" 42")', "error: type conversion error from 'string' to 'int'"],
  ['duration("1x" + "")', "error: type conversion error from 'string' to 'google.protobuf.Duration'"],
  ['int(3.9)', '3'],
  ['int(-3.9)', '-3'],
  ['int(1e19)', 'error: integer overflow'],
  ['uint(3)', '3'],
  ['uint(-1)', 'error: unsigned integer overflow'],
  ['double(1)', '1'],
  ['double("2.5")', '2.5'],
  ['string(12)', '12'],
  ['string(1.5)', '1.5'],
  ['string(true)', 'true'],
  ['string(b"abc")', 'abc'],
  ['bytes("abc") == b"abc"', 'true'],
  ['bool("true")', 'true'],
  ['type(1) == int && type("") == string && type([]) == list', 'true'],
  ['[dyn(1), dyn("a")]', '[1, "a"]'],
  // durations and timestamps
  ['duration("1h30m")', '5400s'],
  ['duration("1.5s") + duration("500ms")', '2s'],
  ['duration("1h") > duration("59m")', 'true'],
  ['duration("2h").getMinutes()', '120'],
  ['timestamp("2024-03-05T10:20:30Z").getFullYear()', '2024'],
  ['timestamp("2024-03-05T10:20:30Z").getMonth()', '2'],
  ['timestamp("2024-03-05T10:20:30Z").getDayOfMonth()', '4'],
  ['timestamp("2024-03-05T10:20:30Z").getHours("+02:00")', '12'],
  ['timestamp("2024-01-01T00:00:00Z") + duration("36h")', '2024-01-02T12:00:00Z'],
  ['timestamp("2024-01-02T00:00:00Z") - timestamp("2024-01-01T00:00:00Z")', '86400s'],
  ['int(timestamp("1970-01-01T00:01:00Z"))', '60'],
  ['timestamp(0)', '1970-01-01T00:00:00Z'],
  // optionals
  ['optional.of(1).hasValue()', 'true'],
  ['optional.none().orValue(5)', '5'],
  ['{"a": 1}.?a.orValue(0)', '1'],
  ['{"a": 1}.?b.orValue(0)', '0'],
  ['{"a": {"b": 1}}.?a.b.orValue(0)', '1'],
  ['[1, 2][?5].orValue(9)', '9'],
  ['optional.ofNonZeroValue("").hasValue()', 'false'],
  ['optional.none().value()', 'error: optional.none() dereference'],
  ['optional.of(2).optMap(x, x * 3).value()', '6'],
  ['[?optional.none(), ?optional.of(1)]', '[1]'],
  ['{?"a": optional.none(), "b": 2}', '{"b": 2}'],
];

const compileErrors: [string, string][] = [
  ['foo', "ERROR: <input>:1:1: undeclared reference to 'foo' (in container '')\n | foo\n | ^"],
  ['1 + "a"', "ERROR: <input>:1:3: found no matching overload for '_+_' applied to '(int, string)'\n | 1 + \"a\"\n | ..^"],
  ['1 == 1.0', "ERROR: <input>:1:3: found no matching overload for '_==_' applied to '(int, double)'\n | 1 == 1.0\n | ..^"],
  ['"a".startsWith(1)', "ERROR: <input>:1:15: found no matching overload for 'startsWith' applied to 'string.(int)'\n | \"a\".startsWith(1)\n | ..............^"],
  ['[1, "a"]', "ERROR: <input>:1:5: expected type 'int' but found 'string'\n | [1, \"a\"]\n | ....^"],
  ['true ? 1 : "a"', "ERROR: <input>:1:6: found no matching overload for '_?_:_' applied to '(bool, int, string)'\n | true ? 1 : \"a\"\n | .....^"],
  ['1.all(x, x)', "ERROR: <input>:1:1: expression of type 'int' cannot be range of a comprehension (must be list, map, or dynamic)\n | 1.all(x, x)\n | ^"],
  ['[1].all(x, x)', "ERROR: <input>:1:12: found no matching overload for '@not_strictly_false' applied to '(int)'\n | [1].all(x, x)\n | ...........^"],
  ['1 +', "ERROR: <input>:1:4: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | 1 +\n | ...^"],
  ['"a".matches("(")', 'ERROR: <input>:1:13: invalid matches argument\n | "a".matches("(")\n | ............^'],
  ['duration("1x")', 'ERROR: <input>:1:10: invalid duration argument\n | duration("1x")\n | .........^'],
  ['has(1)', 'ERROR: <input>:1:5: invalid argument to has() macro\n | has(1)\n | ....^'],
  ['(1 + 2', "ERROR: <input>:1:7: Syntax error: missing ')' at '<EOF>'\n | (1 + 2\n | ......^"],
  ['1 # 2', "ERROR: <input>:1:3: Syntax error: token recognition error at: '#'\n | 1 # 2\n | ..^"],
  ['1\n+ x', "ERROR: <input>:2:3: undeclared reference to 'x' (in container '')\n | + x\n | ..^"],
  ['[1, dyn(2)]', "ERROR: <input>:1:8: expected type 'int' but found 'dyn'\n | [1, dyn(2)]\n | .......^"],
  ['a.b', "ERROR: <input>:1:1: undeclared reference to 'a' (in container '')\n | a.b\n | ^"],
];

describe('CEL language', () => {
  it('evaluates the table of expressions', () => {
    const failures = table.map(([src, want]) => [src, run(src), want]).filter(([, got, want]) => got !== want);
    assert.deepEqual(failures, []);
  });

  it('reports compile errors as cel-go does', () => {
    for (const [src, want] of compileErrors) assert.equal(run(src), `compile: ${want}`, src);
  });

  it('types variables and reports unknown fields', () => {
    const obj: CelType = { kind: 'object', name: 'object', fields: new Map([['a', { type: T.int, schema: { type: 'integer' } }]]) };
    assert.equal(run('self.b == 1', { self: obj }), "compile: ERROR: <input>:1:5: undefined field 'b'\n | self.b == 1\n | ....^");
    assert.equal(run('self.a + 1 == 2', { self: T.map(T.string, T.int) }, {}), 'error: no such attribute: self');
    assert.equal(run('x.y', { x: T.dyn }, { x: 1n }), "error: type 'int' does not support field selection");
    assert.equal(run('x + 1', { x: T.dyn }, { x: 'a' }), 'error: no such overload');
    assert.equal(run('x[3] == 1', { x: T.list(T.int) }, { x: [1n] }), 'error: index out of bounds: 3', 'an attribute path indexes with its own wording');
    assert.equal(run('(x + x)[3] == 1', { x: T.list(T.int) }, { x: [1n] }), "error: index '3' out of range in list size '2'");
  });

  it('stops at the cost limit', () => {
    const c = compile('[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(y, x + y > 0))', new Map());
    assert.ok(c.program);
    assert.equal(c.program.eval(new Map()).value, true);
    assert.ok(c.program.eval(new Map()).cost > 100);
    assert.throws(() => c.program!.eval(new Map(), 50), /operation cancelled: actual cost limit exceeded/);
  });
});
