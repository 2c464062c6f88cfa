// vitest setupFiles of the suite's postgres pass: each test file ends by checking the shared stores it wrote.
import { checkSharedStoresAfterEachFile } from './shared-store';

checkSharedStoresAfterEachFile();
