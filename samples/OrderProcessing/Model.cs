namespace Sayiir.Samples.OrderProcessing;

/// <summary>One line of an order.</summary>
public sealed record OrderLine(string Sku, int Quantity, decimal UnitPrice);

/// <summary>The workflow's input: what the customer ordered and how it should be shipped.</summary>
/// <param name="OrderId">The shop's order number.</param>
/// <param name="CustomerEmail">Where the payment receipt and the shipping notice go.</param>
/// <param name="Lines">The ordered items.</param>
/// <param name="ShippingMethod">"express", "standard", or anything else (shipped standard by the route's default branch).</param>
public sealed record Order(string OrderId, string CustomerEmail, IReadOnlyList<OrderLine> Lines, string ShippingMethod)
{
    /// <summary>The amount to charge.</summary>
    public decimal Total => Lines.Sum(l => l.Quantity * l.UnitPrice);
}

/// <summary>Output of the inventory branch.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="ReservationId">The warehouse's reservation.</param>
/// <param name="ShippingMethod">The dispatch lane the warehouse reserved for.</param>
/// <param name="Attempt">The attempt that succeeded (the demo warehouse fails the first one).</param>
/// <param name="HasLithiumBattery">Whether a reserved item is a lithium battery (some couriers refuse them).</param>
public sealed record Reservation(string OrderId, string ReservationId, string ShippingMethod, int Attempt, bool HasLithiumBattery = false);

/// <summary>Output of the payment branch.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="CustomerEmail">Who was charged.</param>
/// <param name="Amount">How much.</param>
/// <param name="TransactionId">The payment provider's transaction.</param>
/// <param name="Attempt">The attempt that succeeded (large amounts stall on the first one and time out).</param>
public sealed record Payment(string OrderId, string CustomerEmail, decimal Amount, string TransactionId, int Attempt);

/// <summary>How the parcel travels.</summary>
public sealed record Shipment(string Carrier, string TrackingNumber, DateOnly EstimatedDelivery);

/// <summary>The workflow's output.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="CustomerEmail">The customer.</param>
/// <param name="Amount">The amount charged.</param>
/// <param name="ReservationId">The inventory reservation.</param>
/// <param name="TransactionId">The payment transaction.</param>
/// <param name="ShippingMethod">The requested shipping method.</param>
/// <param name="Shipment">Set by the shipping route.</param>
/// <param name="CustomerNotified">Set by the final notify task.</param>
/// <param name="HasLithiumBattery">Whether the parcel holds a lithium battery.</param>
public sealed record Receipt(
    string OrderId,
    string CustomerEmail,
    decimal Amount,
    string ReservationId,
    string TransactionId,
    string ShippingMethod,
    Shipment? Shipment = null,
    bool CustomerNotified = false,
    bool HasLithiumBattery = false);

/// <summary>The order cannot be processed as given. Thrown by the validate task; a retry would not help.</summary>
public sealed class InvalidOrderException(string message) : Exception(message);

/// <summary>The courier will not carry the parcel. Thrown by a shipping task after the order was charged and reserved: the run compensates.</summary>
public sealed class CourierRefusedException(string message) : Exception(message);
