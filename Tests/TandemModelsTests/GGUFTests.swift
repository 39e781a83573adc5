import Foundation
import Testing
@testable import TandemModels
import TandemEngine

@Suite struct GGUFTests {
    @Test func placeholder() {}
}
