import { sql } from "kysely";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { describeEachDialect } from "../testing/dialects.js";
import { insertSupplier } from "../testing/user-rows.js";
import { accountOf, lockAccounts, systemAccount } from "./accounts.js";
import { balanceOf, balancesOf, ledgerImbalance } from "./balances.js";
import { postTransaction } from "./post-transaction.js";

describeEachDialect("double-entry ledger", (database) => {
  let db: Db;
  let customer: string;
  let supplier: string;
  beforeAll(async () => {
    db = database().db;
    customer = await insertSupplier(db);
    supplier = await insertSupplier(db);
  });

  const grant = (reference: string, amount: bigint) =>
    db.transaction().execute((trx) =>
      postTransaction(trx, {
        kind: "credit.grant",
        reference,
        postings: [
          { account: systemAccount("credit_issuance"), amount: -amount },
          { account: accountOf("customer_balance", customer), amount },
        ],
      }),
    );

  it("posts a balanced transaction and reads each account's balance", async () => {
    const posted = await grant("grant-1", 5_000_000n);
    expect(posted.created).toBe(true);
    expect(await balanceOf(db, accountOf("customer_balance", customer))).toBe(5_000_000n);
    expect(await balanceOf(db, systemAccount("credit_issuance"))).toBe(-5_000_000n);
    expect(await balanceOf(db, accountOf("escrow", supplier))).toBe(0n);
  });

  it("returns the stored transaction when the same reference is posted again, moving nothing twice", async () => {
    const first = await grant("grant-2", 1_000n);
    const again = await grant("grant-2", 1_000n);
    expect(again).toEqual({ id: first.id, created: false });
    expect(await balanceOf(db, accountOf("customer_balance", customer))).toBe(5_001_000n);
  });

  it("refuses a reused reference with different postings as a conflict", async () => {
    await expect(grant("grant-2", 2_000n)).rejects.toMatchObject({ code: "conflict" });
  });

  it("refuses postings that do not sum to zero, repeat an account, or move nothing", async () => {
    const post = (postings: { account: ReturnType<typeof systemAccount>; amount: bigint }[]) =>
      db
        .transaction()
        .execute((trx) =>
          postTransaction(trx, { kind: "test", reference: `bad-${Math.random()}`, postings }),
        );
    const fee = systemAccount("network_fee");
    const earnings = accountOf("supplier_earnings", supplier);
    await expect(
      post([
        { account: fee, amount: 5n },
        { account: earnings, amount: -4n },
      ]),
    ).rejects.toThrow(/sum to 1/);
    await expect(
      post([
        { account: fee, amount: 5n },
        { account: fee, amount: -5n },
      ]),
    ).rejects.toThrow(/posted twice/);
    await expect(
      post([
        { account: fee, amount: 0n },
        { account: earnings, amount: 0n },
      ]),
    ).rejects.toThrow(/non-zero/);
    await expect(post([{ account: fee, amount: 0n }])).rejects.toThrow(/two postings/);
  });

  it("moves money between several accounts in one transaction, atomically with the caller's writes", async () => {
    const settle = db.transaction().execute(async (trx) => {
      await lockAccounts(trx, [accountOf("customer_balance", customer)]);
      await postTransaction(trx, {
        kind: "settlement",
        reference: "settle-1",
        postings: [
          { account: accountOf("customer_balance", customer), amount: -1_000n },
          { account: accountOf("supplier_earnings", supplier), amount: 900n },
          { account: systemAccount("network_fee"), amount: 100n },
        ],
      });
      throw new Error("the caller's next write failed");
    });
    await expect(settle).rejects.toThrow("the caller's next write failed");
    const balances = await balancesOf(db, [
      accountOf("supplier_earnings", supplier),
      systemAccount("network_fee"),
    ]);
    expect([...balances.values()]).toEqual([0n, 0n]);
  });

  it("keeps every transaction balanced and refuses to rewrite postings", async () => {
    expect(await ledgerImbalance(db)).toBe(0n);
    await expect(sql`update ledger_postings set amount = 1`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from ledger_transactions`.execute(db)).rejects.toThrow(/append-only/);
  });

  it("names accounts only through their builders", () => {
    expect(accountOf("supplier_earnings", supplier)).toBe(`supplier_earnings:${supplier}`);
    expect(() => accountOf("supplier_earnings", "someone")).toThrow(/Ignis id/);
    expect(() => systemAccount("treasury" as never)).toThrow(/not a system account/);
  });
});
