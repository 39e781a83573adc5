/// The primary states a tandem secondary reads, gathered from the primary's pass over the same
/// tokens: per secondary layer j, [rows x k_j d_L] with the k_j residual points concatenated.
public final class TandemFeatures<S: TrainingScalar> {
    public let attachment: TandemAttachment
    public let rows: Int
    let buffers: [Buffer<S>]

    public init(attachment: TandemAttachment, rows: Int) {
        self.attachment = attachment
        self.rows = rows
        buffers = attachment.points.indices.map { Buffer(rows * attachment.inputWidth($0)) }
    }

    /// Copies the points of `primary`'s last forward pass (same rows).
    public func gather(from primary: TrainingPass<S>) {
        precondition(primary.rows == rows && primary.blueprint.config.width == attachment.primaryWidth
                     && primary.blueprint.config.layerCount == attachment.primaryLayers, "primary does not match")
        let dl = attachment.primaryWidth
        for (layer, points) in attachment.points.enumerated() {
            let width = attachment.inputWidth(layer), target = buffers[layer].pointer
            for (index, point) in points.enumerated() {
                let source = primary.residual(point: point)
                for row in 0..<rows { (target + row * width + index * dl).update(from: source + row * dl, count: dl) }
            }
        }
    }

    public var pointers: [UnsafePointer<S>] { buffers.map { UnsafePointer($0.pointer) } }
}
