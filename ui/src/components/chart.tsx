import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A small time-series chart (uPlot on a canvas). `times` are epoch ms; each series is one line.
 * The chart is created once and fed new data, so sampling every two seconds costs almost nothing.
 */

export interface Series {
  label: string;
  /** A CSS colour. */
  color: string;
  values: readonly number[];
}

export function TimeChart(props: { times: readonly number[]; series: readonly Series[]; height?: number; title?: string }): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const height = props.height ?? 180;
  const labels = props.series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const chart = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
        axes: [
          { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' } },
          { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' }, size: 44 },
        ],
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } }))],
      },
      [[], ...props.series.map(() => [])],
      el,
    );
    plot.current = chart;
    const resize = (): void => chart.setSize({ width: Math.max(240, el.clientWidth), height });
    const observer = new ResizeObserver(resize);
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Recreated only when the set of series changes.
  }, [labels, height]);

  useEffect(() => {
    plot.current?.setData([props.times.map((t) => t / 1000), ...props.series.map((s) => [...s.values])]);
  }, [props.times, props.series]);

  return <div class="chart" ref={box} aria-label={props.title ?? 'chart'} />;
}
