// Definitions the CLI test loads with --app.
import { flow, task } from '../../../../src/engine/flow/define.js';

export const etl = flow('etl', { tasks: { load: task({ run: () => 'loaded' }) } });
