// The local EVM node that chain tests start (evm-node.ts): accounts funded with the throwaway keys the test
// generated, and Hardhat's scratch folders in the test's temporary directory instead of the repository.
const keys = (process.env.IGNIS_TEST_EVM_KEYS ?? "").split(",").filter(Boolean);
const scratch = process.env.IGNIS_TEST_EVM_DIR;

export default {
  ...(scratch ? { paths: { artifacts: `${scratch}/artifacts`, cache: `${scratch}/cache` } } : {}),
  networks: {
    node: {
      type: "edr-simulated",
      chainId: 31337,
      accounts: keys.map((privateKey) => ({ privateKey, balance: "100000000000000000000" })),
    },
  },
};
