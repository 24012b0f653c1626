using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Sayiir.Samples.OrderProcessing;

/// <summary>
/// The order workflow: validate → fork { reserve inventory, charge payment } → join into a receipt →
/// route on the shipping method → notify the customer. Reserving and charging are compensable: should a later step
/// fail (the courier refuses the parcel, say), the charge is refunded and the stock released, the latest first.
/// Register <see cref="Definition"/> on every silo and call <see cref="AddServices"/> on the silo's services so its
/// task classes and fakes resolve.
/// </summary>
public static class OrderProcessingWorkflow
{
    /// <summary>Per-attempt limit of the payment call; the demo gateway stalls longer than this on large first charges.</summary>
    public static readonly TimeSpan PaymentTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Orders above this amount go through the gateway's slow review, which stalls the first charge.</summary>
    public const decimal SlowReviewThreshold = 1_000m;

    /// <summary>The workflow definition.</summary>
    public static WorkflowDefinition<Order, Receipt> Definition { get; } = Flow.Create<Order>("order_processing")
        .Then("validate", Validate)
        .Fork("fulfil", branches => branches
            // A class task from DI that undoes itself (ICompensableTask: it releases the stock); the warehouse is flaky, so
            // a few quick retries absorb its transient failures.
            .Branch("inventory", b => b.Then<ReserveInventory, Reservation>("reserve_inventory",
                o => o.Retry = RetryPolicy.Exponential(maxAttempts: 3, initialDelay: TimeSpan.FromMilliseconds(200))))
            // A delegate with its undo step: a stalled charge is cut by the per-attempt timeout and retried with the same
            // idempotency key; should the order fail later, RefundAsync gives the money back (retried on its own policy).
            .Branch("payment", b => b.Then("charge_payment", ChargeAsync, compensate: RefundAsync, o =>
            {
                o.Retry = RetryPolicy.Exponential(maxAttempts: 3, initialDelay: TimeSpan.FromMilliseconds(200));
                o.Timeout = PaymentTimeout;
                o.CompensationRetry = RetryPolicy.Exponential(maxAttempts: 5, initialDelay: TimeSpan.FromMilliseconds(200));
            })))
        .Join("receipt", (BranchResults results) =>
        {
            // The join only sees the branch outputs, so each branch returns what the receipt needs.
            var reservation = results.Get<Reservation>("inventory");
            var payment = results.Get<Payment>("payment");
            return new Receipt(payment.OrderId, payment.CustomerEmail, payment.Amount, reservation.ReservationId,
                payment.TransactionId, reservation.ShippingMethod, HasLithiumBattery: reservation.HasLithiumBattery);
        })
        .Route<Receipt>("shipping", (Receipt r) => r.ShippingMethod, routes => routes
            .Branch("express", b => b.Then("ship_express", ShipExpress))
            .Branch("standard", b => b.Then("ship_standard", (Receipt r) => Ship(r, "National Post", TimeSpan.FromDays(4))))
            // Unknown methods are not an error for this shop: they ship standard.
            .Default(b => b.Then("ship_fallback", (Receipt r) => Ship(r, "National Post", TimeSpan.FromDays(4)))))
        .Then<NotifyCustomer, Receipt>("notify")
        .Build();

    /// <summary>Registers the services the workflow's tasks resolve (the demo's fake warehouse, gateway and mailer).</summary>
    public static IServiceCollection AddServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IWarehouse, FlakyWarehouse>();
        services.TryAddSingleton<IPaymentGateway, FakePaymentGateway>();
        services.TryAddSingleton<ICustomerNotifier, ConsoleNotifier>();
        return services;
    }

    private static Order Validate(Order order)
    {
        if (order.Lines.Count == 0) throw new InvalidOrderException($"order {order.OrderId} has no lines");
        if (order.Lines.FirstOrDefault(l => l.Quantity <= 0) is { } bad)
            throw new InvalidOrderException($"order {order.OrderId}: quantity of {bad.Sku} must be positive (was {bad.Quantity})");
        if (string.IsNullOrWhiteSpace(order.ShippingMethod)) throw new InvalidOrderException($"order {order.OrderId} has no shipping method");
        return order;
    }

    private static async Task<Payment> ChargeAsync(Order order, TaskContext context)
    {
        var gateway = context.Services.GetRequiredService<IPaymentGateway>();
        // Tasks run at least once, so the charge carries a key that is stable across attempts and re-runs.
        var idempotencyKey = $"{context.InstanceId}/{context.TaskId}";
        var transactionId = await gateway.ChargeAsync(idempotencyKey, order.CustomerEmail, order.Total, context.CancellationToken);
        return new Payment(order.OrderId, order.CustomerEmail, order.Total, transactionId, context.Attempt);
    }

    private static async Task RefundAsync(Order order, Payment payment, TaskContext context)
    {
        var gateway = context.Services.GetRequiredService<IPaymentGateway>();
        // The undo step's own key: a refund retried or re-run after a crash refunds once.
        await gateway.RefundAsync(context.IdempotencyKey, payment.TransactionId, payment.Amount, context.CancellationToken);
    }

    /// <summary>The express courier takes no lithium batteries: such an order fails here, after it was charged and reserved.</summary>
    private static Receipt ShipExpress(Receipt receipt)
    {
        if (receipt.HasLithiumBattery) throw new CourierRefusedException($"Rapid Couriers refuses order {receipt.OrderId}: it holds a lithium battery");
        return Ship(receipt, "Rapid Couriers", TimeSpan.FromDays(1));
    }

    private static Receipt Ship(Receipt receipt, string carrier, TimeSpan transit)
    {
        var tracking = string.Create(CultureInfo.InvariantCulture, $"{carrier[..2].ToUpperInvariant()}{Random.Shared.Next(100_000, 999_999)}");
        var eta = DateOnly.FromDateTime(DateTime.UtcNow + transit);
        return receipt with { Shipment = new Shipment(carrier, tracking, eta) };
    }
}
