// The README's chart: horizontal bars drawn as SVG here, rendered to PNG
// by resvg (a prebuilt binary, no browser, nothing fetched at run time).
import { Resvg } from "@resvg/resvg-js";
import { duration } from "./format.js";
import { type CompareResult, SERVICES } from "./result.js";

const WIDTH = 960;
const LABEL_WIDTH = 190; // service and system names, left of the bars
const VALUE_WIDTH = 90; // the value written after the longest bar
const BAR = 14;
const BAR_GAP = 3;
const GROUP_GAP = 14;
const FONT = "DejaVu Sans";
// The font files themselves, from Debian's fonts-dejavu-core (installed by
// scripts/setup.sh), not whatever the system offers: the same JSON must give
// the same PNG on every machine, which test/bench checks.
const FONT_DIR = "/usr/share/fonts/truetype/dejavu";
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((name) => `${FONT_DIR}/${name}`);

const COLORS = { pool: "#0b6e4f", clone: "#5fb49c", docker: "#1d63ed" };
const LEGEND = {
  pool: "supermachine: warm pool",
  clone: "supermachine: clone on demand",
  docker: "testcontainers on Docker",
};
// About the advance of a 13 px DejaVu Sans character, to space the legend.
const CHAR_WIDTH = 7.6;

interface Bar {
  label: string;
  color: string;
  value: number;
  /** Where the whisker ends (p90); none for a single figure. */
  whisker?: number;
  text: string;
}

interface Panel {
  title: string;
  groups: { name: string; bars: Bar[] }[];
}

const escapeXml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x}" y="${y}" ${attributes}>${escapeXml(content)}</text>`;
}

function timedPanel(result: CompareResult, title: string, key: "ready" | "parallelWall"): Panel {
  return {
    title,
    groups: SERVICES.map((service) => ({
      name: service,
      bars: (["pool", "clone", "docker"] as const).map((system) => {
        const summary = result.services[service][key][system];
        return {
          label: system === "docker" ? "testcontainers" : system,
          color: COLORS[system],
          value: summary.medianMs,
          whisker: summary.p90Ms,
          text: duration(summary.medianMs),
        };
      }),
    })),
  };
}

function memoryPanel(result: CompareResult): Panel {
  return {
    title: "Memory per running instance, PSS (median): QEMU; container processes and shim",
    groups: SERVICES.map((service) => {
      const { vm, docker } = result.services[service].memory;
      return {
        name: service,
        bars: [
          bar("VM", COLORS.clone, vm.medianPssMiB),
          bar("container", COLORS.docker, docker.medianPssMiB),
        ],
      };
    }),
  };
}

function bar(label: string, color: string, mib: number): Bar {
  return { label, color, value: mib, text: `${mib.toFixed(1)} MiB` };
}

/** Draws one panel from `top`; returns its SVG and the y below it. */
function drawPanel(panel: Panel, top: number): { svg: string; bottom: number } {
  const plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20;
  const bars = panel.groups.flatMap((group) => group.bars);
  const max = Math.max(...bars.map((b) => Math.max(b.value, b.whisker ?? 0)));
  const scale = (value: number) => (max > 0 ? (value / max) * plot : 0);
  const parts = [text(20, top + 16, panel.title, 'font-size="15" font-weight="bold"')];
  let y = top + 30;
  for (const group of panel.groups) {
    const height = group.bars.length * (BAR + BAR_GAP) - BAR_GAP;
    parts.push(text(20, y + height / 2 + 5, group.name, 'font-size="14" font-weight="bold"'));
    for (const each of group.bars) {
      const width = Math.max(1, scale(each.value));
      parts.push(
        text(LABEL_WIDTH - 8, y + BAR - 3, each.label, 'font-size="12" text-anchor="end"'),
      );
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR}" ` +
          `fill="${each.color}"/>`,
      );
      let end = LABEL_WIDTH + width;
      if (each.whisker !== undefined && each.whisker > each.value) {
        const tip = LABEL_WIDTH + scale(each.whisker);
        const mid = y + BAR / 2;
        parts.push(
          `<path d="M${end.toFixed(1)} ${mid}H${tip.toFixed(1)}M${tip.toFixed(1)} ${y + 3}` +
            `V${y + BAR - 3}" stroke="#444" stroke-width="1.2" fill="none"/>`,
        );
        end = tip;
      }
      parts.push(text(end + 6, y + BAR - 3, each.text, 'font-size="12"'));
      y += BAR + BAR_GAP;
    }
    y += GROUP_GAP - BAR_GAP;
  }
  return { svg: parts.join("\n"), bottom: y + 10 };
}

export function chartSvg(result: CompareResult): string {
  const { machine } = result;
  const panels = [
    timedPanel(
      result,
      "Start requested → first successful operation (median, whisker p90)",
      "ready",
    ),
    timedPanel(
      result,
      `${result.parallel} tests in parallel, wall time (median, whisker p90)`,
      "parallelWall",
    ),
    memoryPanel(result),
  ];
  const title = "supermachine vs testcontainers on Docker: a fresh instance per test";
  const header = [text(20, 30, title, 'font-size="19" font-weight="bold"')];
  const legend: string[] = [];
  let x = 20;
  for (const [system, label] of Object.entries(LEGEND) as [keyof typeof COLORS, string][]) {
    legend.push(`<rect x="${x}" y="44" width="14" height="14" fill="${COLORS[system]}"/>`);
    legend.push(text(x + 20, 56, label, 'font-size="13"'));
    x += 20 + label.length * CHAR_WIDTH + 30;
  }
  let y = 72;
  const drawn: string[] = [];
  for (const panel of panels) {
    const { svg, bottom } = drawPanel(panel, y);
    drawn.push(svg);
    y = bottom;
  }
  const footer =
    `${result.date.slice(0, 10)} · ${machine.cpu}, ${machine.cores} cores · QEMU ` +
    `${machine.qemu} (${result.accel}) · Docker ${machine.docker.version} ` +
    `(${machine.docker.storageDriver}) · testcontainers ${machine.testcontainers} · ` +
    `${result.samples} samples`;
  const height = y + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
      `viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" fill="#1a1a1a">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...header,
    ...legend,
    ...drawn,
    text(20, height - 12, footer, 'font-size="11" fill="#555"'),
    "</svg>",
  ].join("\n");
}

/** The chart as PNG, at twice its nominal size so it stays sharp when scaled. */
export function chartPng(result: CompareResult): Buffer {
  const rendered = new Resvg(chartSvg(result), {
    fitTo: { mode: "width", value: WIDTH * 2 },
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT },
  }).render();
  return rendered.asPng();
}
