import { render } from 'preact';
import { LiveStream } from './api/live';
import { App } from './app';
import './styles.css';

const root = document.getElementById('app');
if (root !== null) {
  const live = new LiveStream();
  live.start();
  render(<App live={live} />, root);
}
