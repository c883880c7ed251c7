/**
 * A small multi-rank program built on the rendezvous variables, as a customer would ship it in the job's
 * working-directory archive: every rank prints its rank; rank 0 listens at IGNIS_HEAD_PORT and the other ranks
 * dial IGNIS_HEAD_ADDR and report theirs, so rank 0 prints the whole world once everyone joined.
 * docs/clusters.md shows the same program.
 */
export const RENDEZVOUS_SCRIPT = `
const net = require("node:net");
const rank = Number(process.env.IGNIS_RANK);
const world = Number(process.env.IGNIS_WORLD_SIZE);
const [host, port] = process.env.IGNIS_HEAD_ADDR.split(":");
console.log("rank " + rank + " of " + world + " in " + process.env.IGNIS_CLUSTER_ID);
setTimeout(() => { console.error("rank " + rank + ": rendezvous timed out"); process.exit(3); }, 30000).unref();
if (rank === 0) {
  const seen = [0];
  const server = net.createServer((socket) => {
    socket.on("data", (d) => {
      seen.push(Number(String(d)));
      socket.end("welcome");
      if (seen.length === world) {
        console.log("head saw ranks " + seen.sort((a, b) => a - b).join(","));
        server.close();
      }
    });
  });
  server.listen(Number(port), "0.0.0.0");
  if (world === 1) server.close();
} else {
  const dial = () => {
    const c = net.connect(Number(port), host, () => c.write(String(rank)));
    c.on("data", () => { console.log("rank " + rank + " joined the head"); c.end(); });
    c.on("error", () => setTimeout(dial, 100));
  };
  dial();
}
`;
