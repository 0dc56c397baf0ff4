// The manifests the tests apply live in test/fixtures/, inside the repository.
import { join } from 'node:path';

export const fixtures = join(import.meta.dirname, '../fixtures');
