#!/usr/bin/env node
// `npm run build`: compiles the program to dist/ and bundles the kubernetes runner and the policy
// pack (scripts/lib/build.mjs), whether or not a source changed. Every other way in builds only when
// something is stale.
import { build } from "./lib/build.mjs";

build();
