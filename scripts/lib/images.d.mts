// Types for images.mjs, so the end-to-end tests can name the images the real node runs.
export interface ImageFile {
  path: string;
  source: string;
  mode: number;
}
export interface ImageSpec {
  name: string;
  entrypoint?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  files: ImageFile[];
}
export interface BuiltImage {
  name: string;
  repository: string;
  digest: string;
  /** <repository>@<digest>: how a pod names it. */
  reference: string;
  archive: string;
}
export const imagesDir: string;
export function imageSpecs(): ImageSpec[];
export function ensureImages(options?: { log?: (message: string) => void }): Promise<BuiltImage[]>;
