import Foundation

extension COCOImporter {
    /// What `write` produced: the class folder of every image written, and the images skipped
    /// because their mask came out empty.
    struct Written {
        var folders: [String]
        var skipped: [COCOManifest.Skipped]
    }

    /// Writes every kept image (linked or copied) and its mask, in parallel chunks, reporting
    /// progress after each chunk.
    static func write(_ kept: [(Candidate, String)], imagesDir: String, splitDir: String, path: String,
                      options: COCOImportOptions, progress: (@Sendable (Int, Int) -> Void)?) throws -> Written {
        let fm = FileManager.default
        for folder in Set(kept.map(\.1)) {
            for kind in ["images", "masks"] {
                let dir = (splitDir as NSString).appendingPathComponent("\(kind)/\(folder)")
                do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                    throw COCOImportError.writeFailed(path: dir, reason: (error as NSError).localizedDescription)
                }
            }
        }
        var folders: [String] = [], skipped: [COCOManifest.Skipped] = []
        let chunk = 256
        var start = 0
        while start < kept.count {
            let part = Array(kept[start..<min(start + chunk, kept.count)])
            let results = parallelMap(part.count) { i -> Result<Bool, COCOImportError> in
                let (c, folder) = part[i]
                do {
                    return .success(try writeOne(c, folder: folder, imagesDir: imagesDir, splitDir: splitDir, path: path, foreground: options.foreground))
                } catch let e as COCOImportError {
                    return .failure(e)
                } catch {
                    return .failure(.writeFailed(path: splitDir, reason: "\(error)"))
                }
            }
            for (i, r) in results.enumerated() {
                let (c, folder) = part[i]
                if try r.get() {
                    folders.append(folder)
                } else {
                    skipped.append(.init(imageID: c.image.id, file: c.image.fileName, reason: COCOSkipReason.emptyMask.rawValue,
                                         detail: "annotation \(c.annotation.id) covers no pixel once rasterized"))
                }
            }
            start += part.count
            progress?(start, kept.count)
        }
        return Written(folders: folders, skipped: skipped)
    }

    /// Writes one image and its mask; false (nothing written) when the mask is empty.
    static func writeOne(_ c: Candidate, folder: String, imagesDir: String, splitDir: String, path: String,
                         foreground: COCOImportOptions.Foreground) throws -> Bool {
        let w = c.image.width, h = c.image.height
        var mask: [UInt8]
        do {
            switch foreground {
            case .mask:
                mask = try COCOMasks.decode(c.annotation.segmentation!, width: w, height: h)
            case .box:
                guard let box = c.annotation.bbox else { throw COCOMaskError(problem: "no bbox; use --foreground mask") }
                mask = try COCOMasks.boxMask(box, width: w, height: h)
            }
        } catch let e as COCOMaskError {
            throw COCOImportError.badSegmentation(path: path, annotation: c.annotation.id, problem: e.problem)
        }
        guard mask.contains(1) else { return false }
        for i in 0..<mask.count where mask[i] != 0 { mask[i] = 255 }
        let name = (c.image.fileName as NSString).lastPathComponent
        let source = (imagesDir as NSString).appendingPathComponent(c.image.fileName)
        let imageOut = (splitDir as NSString).appendingPathComponent("images/\(folder)/\(name)")
        let maskOut = (splitDir as NSString).appendingPathComponent("masks/\(folder)/\(ImageFile.stem(of: name)).png")
        do { try ImportFiles.linkOrCopy(source, to: imageOut) } catch {
            throw COCOImportError.writeFailed(path: imageOut, reason: "\(error)")
        }
        do { try PNGCodec.writeGray(mask, width: w, height: h, to: maskOut) } catch {
            throw COCOImportError.writeFailed(path: maskOut, reason: "\(error)")
        }
        return true
    }
}
