// The npm package works unmodified in a webpack 5 app: built by webpack's Node API with no
// configuration and run in Chromium from another origin than the API, through CORS (see
// bundler-app/suite.mjs).
import { bundlerTests } from "./bundler-app/suite.mjs";

bundlerTests("webpack");
