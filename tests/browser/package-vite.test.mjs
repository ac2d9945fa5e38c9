// The npm package works unmodified in a Vite app: built by Vite's JS API with no configuration and
// run in Chromium from another origin than the API, through CORS (see bundler-app/suite.mjs).
import { bundlerTests } from "./bundler-app/suite.mjs";

bundlerTests("vite");
