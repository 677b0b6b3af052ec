// How the browser tests launch Debian's Chromium: as root on a machine without network, so no
// sandbox and no background traffic. playwright-core never downloads a browser of its own.
export const CHROMIUM = {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
};
