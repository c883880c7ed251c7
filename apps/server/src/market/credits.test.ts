import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { balanceOf } from "../ledger/balances.js";
import { describeEachDialect } from "../testing/dialects.js";
import { grantCredits } from "./credits.js";
import { marketAccounts } from "./escrow.js";
import { createTestUser, expectBalancedLedger } from "./market-fixtures.js";
import { creditDeposit } from "./payment-adapter.js";

describeEachDialect("prepaid credit", (database) => {
  let db: Db;
  let customer: string;
  beforeAll(async () => {
    db = database().db;
    customer = await createTestUser(db, ["customer"]);
  });

  it("grants once per reference, and refuses the same reference with another amount", async () => {
    const first = await grantCredits(db, {
      userId: customer,
      amount: "1000",
      reference: "inv-1",
      grantedBy: customer,
    });
    const again = await grantCredits(db, {
      userId: customer,
      amount: 1000,
      reference: "inv-1",
      grantedBy: customer,
    });
    expect([first.created, first.balance, again.created, again.balance]).toEqual([true, 1000n, false, 1000n]);
    await expect(
      grantCredits(db, { userId: customer, amount: "2000", reference: "inv-1", grantedBy: customer }),
    ).rejects.toMatchObject({ code: "conflict" });
    await expect(
      grantCredits(db, { userId: "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa", amount: "5", grantedBy: customer }),
    ).rejects.toMatchObject({ code: "not_found" });
    expect(await balanceOf(db, marketAccounts.customer(customer))).toBe(1000n);
  });

  it("credits a supplier's earnings when asked, the account stakes are paid from", async () => {
    const supplier = await createTestUser(db, ["supplier"]);
    const grant = await grantCredits(db, {
      userId: supplier,
      amount: "3000000",
      account: "supplier_earnings",
      reference: "stake-float-1",
      grantedBy: customer,
    });
    expect(grant).toMatchObject({ account: "supplier_earnings", balance: 3_000_000n, created: true });
    expect(await balanceOf(db, marketAccounts.supplier(supplier))).toBe(3_000_000n);
    expect(await balanceOf(db, marketAccounts.customer(supplier))).toBe(0n);
    await expect(
      grantCredits(db, {
        userId: supplier,
        amount: "3000000",
        reference: "stake-float-1",
        grantedBy: customer,
      }),
    ).rejects.toMatchObject({ code: "conflict" });
  });

  it("credits a confirmed payment once however often the provider notifies", async () => {
    const deposit = {
      provider: "stripe",
      providerReference: "pi_123",
      userId: customer,
      amount: 25_000_000n,
    };
    await creditDeposit(db, deposit);
    await creditDeposit(db, deposit);
    expect(await balanceOf(db, marketAccounts.customer(customer))).toBe(1000n + 25_000_000n);
    expect(await balanceOf(db, marketAccounts.issuance())).toBe(-(1000n + 3_000_000n + 25_000_000n));
    await expectBalancedLedger(db);
  });
});
