// A proxy worker of `leakscope start --workers N` (proxy/hub.ts forks it): loads the TypeScript through tsx.
import { register } from 'tsx/esm/api';

register();
const { runWorker } = await import('../proxy/proxy-node.ts');
runWorker();
