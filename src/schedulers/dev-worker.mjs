// Development only: pool threads started from the TypeScript sources (tests, `tsx`) load the
// thread code through tsx. The published package runs dist/schedulers/worker-thread.js directly.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./worker-thread.ts');
export default mod.default;
