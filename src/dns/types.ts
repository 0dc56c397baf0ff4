// DNS message shapes shared by the wire codec, the record index and the
// server (RFC 1035, RFC 2782 SRV, RFC 6891 EDNS0). Names are absolute, written
// without the trailing dot, in the case they were received or created in.

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const RRClass = { IN: 1, CH: 3, ANY: 255 } as const;

export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export const Opcode = { QUERY: 0 } as const;

export interface Question {
  name: string;
  type: number;
  class: number;
}

export type RData =
  | { kind: 'A'; address: string }
  | { kind: 'AAAA'; address: string }
  | { kind: 'name'; target: string } // CNAME, PTR, NS
  | { kind: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { kind: 'TXT'; texts: string[] }
  | { kind: 'SOA'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { kind: 'MX'; preference: number; exchange: string }
  | { kind: 'raw'; data: Buffer }; // any other type, kept as bytes

export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: RData;
}

export interface EdnsOption {
  code: number;
  data: Buffer;
}

export interface Edns {
  /** The requestor's UDP payload size (the OPT record's class). */
  udpSize: number;
  /** Upper 8 bits of the 12-bit rcode. */
  extendedRcode: number;
  version: number;
  dnssecOk: boolean;
  options: EdnsOption[];
}

export interface Header {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  /** The low 4 bits of the rcode (the OPT record carries the rest). */
  rcode: number;
}

export interface Message {
  header: Header;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  /** Additional records other than OPT. */
  additionals: ResourceRecord[];
  /** The OPT pseudo-record, when present. */
  edns?: Edns;
}
