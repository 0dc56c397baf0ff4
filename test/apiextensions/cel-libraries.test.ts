// The libraries of the Kubernetes CEL environment: cel-go's strings
// extension, Kubernetes' lists, regex, URL and quantity libraries and the
// sets extension, as a table of expressions and results (errors included).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/apiextensions/cel/program.js';
import { CelError, formatValue } from '../../src/apiextensions/cel/values.js';

function run(src: string): string {
  const c = compile(src, new Map());
  if (!c.program) return `compile: ${c.issues}`;
  try {
    return formatValue(c.program.eval(new Map()).value);
  } catch (e) {
    if (!(e instanceof CelError)) throw e;
    return `error: ${e.message}`;
  }
}

const table: [string, string][] = [
  // strings
  ['"héllo".charAt(1)', 'é'],
  ['"abc".charAt(3)', ''],
  ['"abc".charAt(4)', 'error: index out of range: 4'],
  ['"hello".indexOf("l")', '2'],
  ['"hello".indexOf("l", 3)', '3'],
  ['"hello".indexOf("z")', '-1'],
  ['"hello".indexOf("l", 9)', 'error: index out of range: 9'],
  ['"hello".lastIndexOf("l")', '3'],
  ['"hello".lastIndexOf("l", 2)', '2'],
  ['"MiXeD ÄÖ".lowerAscii()', 'mixed ÄÖ'],
  ['"MiXeD".upperAscii()', 'MIXED'],
  ['"a-b-c".replace("-", "+")', 'a+b+c'],
  ['"a-b-c".replace("-", "+", 1)', 'a+b-c'],
  ['"a,b,c".split(",")', '["a", "b", "c"]'],
  ['"a,b,c".split(",", 2)', '["a", "b,c"]'],
  ['"a,b,c".split(",", 0)', '[]'],
  ['"hello".substring(1)', 'ello'],
  ['"hello".substring(1, 3)', 'el'],
  ['"hello".substring(3, 1)', 'error: invalid substring range. start: 3, end: 1'],
  ['"hello".substring(0, 9)', 'error: index out of range: 9'],
  ['"  x y \\t".trim()', 'x y'],
  ['["a", "b"].join()', 'ab'],
  ['["a", "b"].join(", ")', 'a, b'],
  ['"%s has %d items, %.2f%% done".format(["x", 3, 12.345])', 'x has 3 items, 12.35% done'],
  ['"%x %X %o %b".format([255, 255, 8, 5])', 'ff FF 10 101'],
  ['"%s".format([[1, 2]])', '[1, 2]'],
  ['"%d".format([1.5])', 'error: error during formatting: decimal clause can only be used on integers, was given double'],
  ['"%s %s".format(["a"])', 'error: index 1 out of range'],
  ['strings.quote("a\\"b")', '"a\\"b"'],
  // lists
  ['[1, 2, 2, 5].isSorted()', 'true'],
  ['["b", "a"].isSorted()', 'false'],
  ['[1, 2, 3].sum()', '6'],
  ['[1.5, 2.5].sum()', '4'],
  ['[duration("1s"), duration("2s")].sum()', '3s'],
  ['dyn([1, 2]).sum()', '3'],
  ['[dyn(1), dyn("a")].sum()', 'error: no such overload'],
  ['[3, 1, 2].min()', '1'],
  ['["b", "c", "a"].max()', 'c'],
  ['[1, 2].max() + [].map(x, 1).sum()', '2'],
  ['[1, 2, 1].indexOf(1)', '0'],
  ['[1, 2, 1].lastIndexOf(1)', '2'],
  ['[1, 2, 1].indexOf(3)', '-1'],
  // regex
  ['"abc 123 def 456".find("[0-9]+")', '123'],
  ['"abc".find("[0-9]+")', ''],
  ['"abc 123 def 456".findAll("[0-9]+")', '["123", "456"]'],
  ['"abc 123 def 456".findAll("[0-9]+", 1)', '["123"]'],
  ['"ABC".matches("(?i)^abc$")', 'true'],
  // urls
  ['url("https://user@example.com:8443/a/b?x=1&x=2&y=3").getScheme()', 'https'],
  ['url("https://example.com:8443/a").getHost()', 'example.com:8443'],
  ['url("https://example.com:8443/a").getHostname()', 'example.com'],
  ['url("https://[::1]:80/").getHostname()', '::1'],
  ['url("https://example.com/a").getPort()', ''],
  ['url("https://example.com/a%20b").getEscapedPath()', '/a%20b'],
  ['url("https://example.com/?x=1&x=2&y=3").getQuery()', '{"x": ["1", "2"], "y": ["3"]}'],
  ['url("/just/a/path").getEscapedPath()', '/just/a/path'],
  ['isURL("https://example.com")', 'true'],
  ['isURL("not a url")', 'false'],
  ['url("example")', 'error: URL parse error during conversion from string: parse "example": invalid URI for request'],
  // quantities
  ['quantity("1Ki").compareTo(quantity("1024"))', '0'],
  ['quantity("1.5G").isGreaterThan(quantity("1G"))', 'true'],
  ['quantity("100m").isLessThan(quantity("1"))', 'true'],
  ['quantity("2Gi").asInteger()', '2147483648'],
  ['quantity("100m").isInteger()', 'false'],
  ['quantity("100m").asInteger()', 'error: cannot convert value to integer'],
  ['quantity("1.5").asApproximateFloat()', '1.5'],
  ['quantity("1").add(quantity("500m")).compareTo(quantity("1500m"))', '0'],
  ['quantity("1").sub(2).sign()', '-1'],
  ['quantity("1e3") == quantity("1k")', 'true'],
  ['isQuantity("10Mi")', 'true'],
  ['isQuantity("10 Mi")', 'false'],
  ['quantity("abc")', "error: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  // IPs and CIDRs
  ['isIP("10.0.0.1") && isIP("2001:db8::1")', 'true'],
  ['isIP("010.0.0.1")', 'false'],
  ['isIP("::ffff:1.2.3.4")', 'false'],
  ['ip("10.0.0.1").family()', '4'],
  ['ip("fe80::1").isLinkLocalUnicast()', 'true'],
  ['ip("127.0.0.1").isLoopback()', 'true'],
  ['ip("8.8.8.8").isGlobalUnicast()', 'true'],
  ['ip.isCanonical("2001:DB8::1")', 'false'],
  ['ip("2001:db8::1") == ip("2001:0db8::1")', 'true'],
  ['string(ip("2001:0db8::1"))', '2001:db8::1'],
  ['cidr("10.0.0.0/8").containsIP("10.1.2.3")', 'true'],
  ['cidr("10.0.0.0/8").containsCIDR("10.1.0.0/16")', 'true'],
  ['cidr("10.0.0.0/16").containsCIDR(cidr("10.0.0.0/8"))', 'false'],
  ['cidr("10.1.2.3/8").masked() == cidr("10.0.0.0/8")', 'true'],
  ['string(cidr("10.1.2.3/8").ip())', '10.1.2.3'],
  ['cidr("10.0.0.0/8").prefixLength()', '8'],
  ['isCIDR("10.0.0.0/33")', 'false'],
  ['ip("1.2.3")', 'error: IP Address "1.2.3" parse error during conversion from string: ParseAddr("1.2.3"): unable to parse IP'],
  // formats
  ['format.dns1123Label().validate("my-name")', 'optional.none()'],
  ['format.dns1123Label().validate("My_Name").value().size() > 0', 'true'],
  ['format.named("labelValue").value().validate("ok") == optional.none()', 'true'],
  ['format.named("nope").hasValue()', 'false'],
  ['format.dns1123LabelPrefix().validate("prefix-").hasValue()', 'false'],
  // sets
  ['sets.contains([1, 2, 3], [1, 3])', 'true'],
  ['sets.contains([1], [2])', 'false'],
  ['sets.equivalent([1, 2, 2], [2, 1])', 'true'],
  ['sets.intersects([1, 2], [2, 3])', 'true'],
];

describe('CEL libraries', () => {
  it('evaluates the table of expressions', () => {
    const failures = table.map(([src, want]) => [src, run(src), want]).filter(([, got, want]) => got !== want);
    assert.deepEqual(failures, []);
  });

  it('checks the libraries\' argument types at compile time', () => {
    assert.match(run('[{"a": 1}].isSorted()'), /found no matching overload for 'isSorted' applied to 'list\(map\(string, int\)\)\.\(\)'/);
    assert.match(run('"a".split(1)'), /found no matching overload for 'split' applied to 'string\.\(int\)'/);
    assert.match(run('quantity("1").add("1")'), /found no matching overload for 'add' applied to 'kubernetes.Quantity\.\(string\)'/);
  });
});
