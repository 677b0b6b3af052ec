// What the package's README tells a Vite user: the default (`bundler`) build imports its .wasm as an
// ES module (the WebAssembly/ES module integration), which Vite understands with vite-plugin-wasm.
// Vite 7's default build target supports top-level await, so no second plugin is needed.
import { defineConfig } from "vite";
import wasm from "vite-plugin-wasm";

export default defineConfig({
  plugins: [wasm()],
});
