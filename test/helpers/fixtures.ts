// What the tests bring along, inside the repository: the manifests they apply
// (test/fixtures/) and small client scripts they run on a node.
import { join } from 'node:path';

export const fixtures = join(import.meta.dirname, '../fixtures');

/** `node udpAsk HOST PORT [--count N] [--sport P] [--wait ms]`: one UDP reply a line (see the script). */
export const udpAsk = join(import.meta.dirname, 'udp-ask.mjs');
