import { Graph, layout } from '@dagrejs/dagre';
import type { JSX } from 'preact';
import { useMemo } from 'preact/hooks';
import type { FlowNode } from '../api/types';
import { cssName } from './common';

/**
 * A flow's task graph, laid out left to right by dagre and drawn as SVG. Each node is coloured by
 * its task's state in the shown run (`.state-<Name>` in styles.css); only the colours change as the
 * run progresses, so the layout (computed from the tasks alone) stays put.
 */

const NODE_HEIGHT = 38;
const CHAR_WIDTH = 7.4;

interface Laid {
  width: number;
  height: number;
  nodes: { key: string; x: number; y: number; width: number }[];
  edges: { from: string; to: string; path: string }[];
}

function layoutTasks(tasks: readonly FlowNode[]): Laid {
  const graph = new Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 48, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  const keys = new Set(tasks.map((t) => t.id));
  for (const task of tasks) {
    graph.setNode(task.id, { width: Math.max(110, Math.min(260, task.id.length * CHAR_WIDTH + 44)), height: NODE_HEIGHT });
  }
  for (const task of tasks) {
    for (const dep of task.needs) if (keys.has(dep)) graph.setEdge(dep, task.id);
  }
  layout(graph);
  const label = graph.graph() as { width?: number; height?: number };
  const nodes = graph.nodes().map((key: string) => {
    const node = graph.node(key) as { x: number; y: number; width: number };
    return { key, x: node.x, y: node.y, width: node.width };
  });
  const edges = graph.edges().map((edge: { v: string; w: string }) => {
    const points = (graph.edge(edge) as { points?: { x: number; y: number }[] }).points ?? [];
    const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    return { from: edge.v, to: edge.w, path };
  });
  return { width: label.width ?? 0, height: label.height ?? 0, nodes, edges };
}

function shorten(text: string, width: number): string {
  const max = Math.floor((width - 30) / CHAR_WIDTH);
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

export function Dag(props: {
  tasks: readonly FlowNode[];
  /** Task key → state in the run shown; tasks not in it are drawn as not started. */
  states?: ReadonlyMap<string, string>;
  onSelect?: (key: string) => void;
  selected?: string | null;
}): JSX.Element {
  const laid = useMemo(() => layoutTasks(props.tasks), [props.tasks]);
  if (props.tasks.length === 0) return <div class="empty">This flow declares no tasks.</div>;
  return (
    <div class="dag-wrap">
      <svg class="dag" width={laid.width} height={laid.height} viewBox={`0 0 ${laid.width} ${laid.height}`} role="img" aria-label="Task graph">
        <defs>
          <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="dag-arrow" />
          </marker>
        </defs>
        {laid.edges.map((edge) => (
          <path key={`${edge.from}->${edge.to}`} d={edge.path} class="dag-edge" marker-end="url(#dag-arrow)" />
        ))}
        {laid.nodes.map((node) => {
          const state = props.states?.get(node.key) ?? 'NotStarted';
          return (
            <g
              key={node.key}
              class={`dag-node state-${cssName(state)}${props.selected === node.key ? ' selected' : ''}`}
              data-task={node.key}
              data-state={state}
              transform={`translate(${node.x - node.width / 2},${node.y - NODE_HEIGHT / 2})`}
              onClick={() => props.onSelect?.(node.key)}
            >
              <title>{`${node.key}: ${state === 'NotStarted' ? 'not started' : state}`}</title>
              <rect width={node.width} height={NODE_HEIGHT} rx="7" />
              <circle cx="14" cy={NODE_HEIGHT / 2} r="5" class="dag-dot" />
              <text x="26" y={NODE_HEIGHT / 2 + 4.5}>
                {shorten(node.key, node.width)}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
