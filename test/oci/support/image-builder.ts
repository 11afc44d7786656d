import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

/** A blob ready to push or write: bytes, digest and a media type. */
export interface Blob {
  mediaType: string;
  bytes: Buffer;
  digest: string;
  size: number;
}

export function blob(mediaType: string, bytes: Buffer): Blob {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  return { mediaType, bytes, digest, size: bytes.length };
}

/**
 * A ustar archive of regular files, the shape of an image layer. Names over
 * 100 bytes get a pax `path` record, as Go's archive/tar writes them.
 */
export function tarOf(files: Record<string, string | Buffer>): Buffer {
  const blocks: Buffer[] = [];
  const entry = (name: string, type: string, data: Buffer) => {
    const header = Buffer.alloc(512);
    header.write(name.slice(0, 99), 0, 100, "utf8");
    header.write("0000644\0", 100);
    header.write("0000000\0", 108);
    header.write("0000000\0", 116);
    header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    header.write("00000000000\0", 136);
    header.write("        ", 148);
    header.write(type, 156);
    header.write("ustar\0", 257);
    header.write("00", 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  };
  for (const [name, content] of Object.entries(files)) {
    if (Buffer.byteLength(name) > 99) {
      const body = ` path=${name}\n`;
      let length = body.length;
      length += String(length + String(length).length).length;
      entry("PaxHeader", "x", Buffer.from(`${length}${body}`));
    }
    entry(name, "0", Buffer.from(content));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface TestImage {
  config: Blob;
  layers: Blob[];
  manifest: Blob;
}

/** A small but real image: gzip tar layers and an OCI config and manifest. */
export function buildImage(options: {
  architecture?: string;
  files?: Record<string, string>;
  layerMediaType?: string;
  cmd?: string[];
}): TestImage {
  const architecture = options.architecture ?? "amd64";
  const tar = tarOf(options.files ?? { "hello.txt": `hello from ${architecture}\n` });
  const layers = [
    blob(options.layerMediaType ?? "application/vnd.oci.image.layer.v1.tar+gzip", gzipSync(tar)),
  ];
  const config = blob(
    "application/vnd.oci.image.config.v1+json",
    Buffer.from(
      JSON.stringify({
        architecture,
        os: "linux",
        config: {
          Cmd: options.cmd ?? ["/bin/sh"],
          Env: ["PATH=/usr/bin:/bin"],
          WorkingDir: "/srv",
          ExposedPorts: { "6379/tcp": {} },
          Labels: { arch: architecture },
          StopSignal: "SIGTERM",
        },
        rootfs: { type: "layers", diff_ids: [blob("", tar).digest] },
      }),
    ),
  );
  const manifest = manifestOf(config, layers);
  return { config, layers, manifest };
}

export function manifestOf(config: Blob, layers: Blob[]): Blob {
  const descriptor = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
  const mediaType = "application/vnd.oci.image.manifest.v1+json";
  const body = {
    schemaVersion: 2,
    mediaType,
    config: descriptor(config),
    layers: layers.map(descriptor),
  };
  return blob(mediaType, Buffer.from(JSON.stringify(body)));
}

/** An OCI index over images for several platforms. */
export function indexOf(images: { image: TestImage; architecture: string; variant?: string }[]) {
  const mediaType = "application/vnd.oci.image.index.v1+json";
  const manifests = images.map(({ image, architecture, variant }) => ({
    mediaType: image.manifest.mediaType,
    digest: image.manifest.digest,
    size: image.manifest.size,
    platform: { os: "linux", architecture, ...(variant ? { variant } : {}) },
  }));
  return blob(mediaType, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests })));
}
