export { ContentStore } from "./content-store.js";
export type { Credentials } from "./docker-config.js";
export type { OciImageConfig } from "./image-config.js";
export type { ImageRecord } from "./image-record.js";
export type { Platform } from "./platform.js";
export { type LayerProgress, type PullOptions, pullImage } from "./pull.js";
export type { PulledImage, PulledLayer } from "./pulled-image.js";
export {
  formatReference,
  type ImageReference,
  type ImageSource,
  parseImageSource,
  parseReference,
} from "./reference.js";
