import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** One plotted series. */
export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Draw as bars instead of a line. */
  bars?: boolean;
  /** Format of the value in the legend. */
  format?: (value: number) => string;
  /** Plot against the right-hand axis. */
  rightAxis?: boolean;
}

/**
 * A uPlot time chart that follows its container's width; `x` is in seconds since the Unix epoch. New data updates
 * the existing plot, so a polling page does not flicker.
 */
export function UplotChart(props: {
  x: number[];
  series: ChartSeries[];
  height?: number;
  ariaLabel: string;
  yRange?: [number, number];
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series
    .map((s) => `${s.label}:${s.bars ? "b" : "l"}:${s.rightAxis ? "r" : ""}`)
    .join("|");
  const data = [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the plot is rebuilt only when its shape changes; data flows through setData below.
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const styles = getComputedStyle(el);
    const axisColor = styles.getPropertyValue("--muted").trim() || "#888";
    const gridColor = styles.getPropertyValue("--grid").trim() || "rgba(128,128,128,0.2)";
    const hasRight = props.series.some((s) => s.rightAxis);
    const axis = (scale: string, side: 1 | 3 = 3): uPlot.Axis => ({
      scale,
      side,
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1, show: side === 3 },
      ticks: { stroke: gridColor },
      size: 50,
    });
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: props.height ?? 220,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true },
      scales: {
        x: { time: true },
        y: props.yRange ? { range: props.yRange } : { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
        ...(hasRight
          ? { r: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(1, max * 1.1)] } }
          : {}),
      },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } },
        axis("y"),
        ...(hasRight ? [axis("r", 1)] : []),
      ],
      series: [
        {},
        ...props.series.map(
          (s): uPlot.Series => ({
            label: s.label,
            stroke: s.color,
            fill: s.bars ? `${s.color}99` : `${s.color}22`,
            width: s.bars ? 0 : 2,
            scale: s.rightAxis ? "r" : "y",
            points: { show: false },
            ...(s.bars ? { paths: uPlot.paths.bars!({ size: [0.7, 40] }) } : {}),
            ...(s.format
              ? { value: (_u: uPlot, v: number | null) => (v === null ? "—" : s.format!(v)) }
              : {}),
          }),
        ),
      ],
    };
    const instance = new uPlot(opts, data, el);
    plot.current = instance;
    const observer = new ResizeObserver(() => {
      instance.setSize({ width: el.clientWidth, height: props.height ?? 220 });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      instance.destroy();
      plot.current = null;
    };
  }, [shape, props.height]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return <div className="chart" ref={host} role="img" aria-label={props.ariaLabel} />;
}
